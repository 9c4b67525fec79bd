/** Runs once when a portal server starts: migrate, seed the demo if asked, print how to sign in. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { startPortal } = await import("./lib/startup.ts");
  await startPortal();
}
