/** Runs once when a portal server starts: migrate, seed the demo if asked, print how to sign in. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { startPortal } = await import("./lib/startup.ts");
  // The demo world is not part of lib/: it is passed to the start-up from demo/.
  const { demoMode, startDemo } = await import("./demo/start.ts");
  await startPortal({ demo: demoMode() ? startDemo : undefined });
  (await import("./lib/drift/sweep.ts")).startDriftSweeper();
}
