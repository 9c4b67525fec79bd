// Moved to lib/contracts/: publishing is the contracts capability; this path stays until its importers move.
export * from "@/lib/contracts/publish.ts";
export * from "@/lib/contracts/lifecycle.ts";
