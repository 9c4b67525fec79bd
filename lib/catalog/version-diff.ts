// Moved to lib/contracts/diff.ts; this path stays until its importers move.
export * from "@/lib/contracts/diff.ts";
