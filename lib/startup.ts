import "server-only";
import { getDatabaseHandle } from "@/db/client.ts";
import { databaseTargetFromEnv } from "@/db/config.ts";
import { portalUrl } from "@/lib/auth/better-auth.ts";
import { needsFirstAdmin } from "@/lib/accounts/users.ts";
import { backfillFlows } from "@/lib/catalog/flows.ts";
import { ensureDemoAgentToken, seedDemo } from "@/lib/demo/seed.ts";

/** True when the portal runs as a demo (`MESHPORT_DEMO=1`): demo accounts and data are seeded. */
export function demoMode(): boolean {
  return process.env.MESHPORT_DEMO === "1" || process.env.MESHPORT_DEMO === "true";
}

/** Opens and migrates the database, derives what older builds did not store, seeds the demo when asked, and says how to sign in. */
export async function startPortal(log: (line: string) => void = console.log): Promise<void> {
  const target = databaseTargetFromEnv();
  const handle = await getDatabaseHandle();
  log(
    `meshport: database ready (${handle.driver}${target.driver === "pglite" ? `, ${target.dataDir ?? "in memory"}` : ""})`,
  );
  const derived = await backfillFlows(handle.db);
  if (derived > 0) log(`meshport: derived the flows and schemas of ${derived} stored contract version(s)`);
  if (demoMode()) {
    const demo = await seedDemo();
    await ensureDemoAgentToken();
    log(
      [
        "",
        "  Meshport demo is running at " + portalUrl(),
        `  Sign in as ${demo.email} with the password: ${demo.password}`,
        `  (other demo accounts: rita@, eddie@, val@meshport.demo, same password)`,
        "",
      ].join("\n"),
    );
  } else if (await needsFirstAdmin()) {
    log(
      `meshport: no accounts yet. Open ${portalUrl()}/setup to create the first admin, ` +
        "or run `npx meshport admin create --email … --name …` with the portal stopped.",
    );
  }
}
