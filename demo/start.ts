import "server-only";
import { ensureDemoAgentTokens, seedDemo } from "./seed.ts";

/** True when the portal runs as a demo (`MESHPORT_DEMO=1`): demo accounts and data are seeded. */
export function demoMode(): boolean {
  return process.env.MESHPORT_DEMO === "1" || process.env.MESHPORT_DEMO === "true";
}

/** Seeds the demo world (idempotent) and the tokens of the demo brokers' agents; returns the demo admin's sign-in. */
export async function startDemo(): Promise<{ email: string; password: string }> {
  const demo = await seedDemo();
  await ensureDemoAgentTokens();
  return { email: demo.email, password: demo.password };
}
