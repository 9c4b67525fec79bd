import "server-only";
import { sql } from "drizzle-orm";
import { getDatabaseHandle, type DatabaseHandle } from "@/db/client.ts";
import { databaseTargetFromEnv } from "@/db/config.ts";
import { portalUrl } from "@/lib/auth/better-auth.ts";
import { needsFirstAdmin } from "@/lib/accounts/users.ts";
import { backfillFlows } from "@/lib/catalog/flows.ts";
import { backfillRegistrySubjects } from "@/lib/schema-registry/contracts.ts";
import { trustedProxies } from "@/lib/http/client-address.ts";
import { signInLimits } from "@/lib/http/sign-in-limit.ts";
import { startWebhookSender } from "@/lib/notifications/outbox.ts";
import { senderSettings } from "@/lib/notifications/policy.ts";

/** How the portal starts. */
export interface StartOptions {
  log?: (line: string) => void;
  /**
   * Seeds a demo world once the database is ready and returns the admin's sign-in. The demo
   * lives outside lib/ (demo/), so the caller (instrumentation.ts) passes it in when asked.
   */
  demo?: () => Promise<{ email: string; password: string }>;
}

/**
 * Opens and migrates the database, derives what older builds did not store, starts the webhook sender, seeds the
 * demo when given one, and says how to sign in.
 */
export async function startPortal({ log = console.log, demo }: StartOptions = {}): Promise<void> {
  // A mistyped proxy list or limit stops the portal here instead of failing every sign-in.
  trustedProxies();
  signInLimits();
  senderSettings();
  const target = databaseTargetFromEnv();
  const handle = await getDatabaseHandle();
  log(
    `meshport: database ready (${handle.driver}${target.driver === "pglite" ? `, ${target.dataDir ?? "in memory"}` : ""})`,
  );
  const derived = await backfillFlows(handle.db);
  if (derived > 0) log(`meshport: derived the flows and schemas of ${derived} stored contract version(s)`);
  const registered = await backfillRegistrySubjects(handle.db);
  if (registered > 0) log(`meshport: wrote the registry subjects of ${registered} stored contract version(s)`);
  await refreshPlannerStatistics(handle, derived + registered > 0, log);
  // Every instance runs a sender: leases keep them from sending one delivery twice.
  startWebhookSender({ log });
  if (demo) {
    const admin = await demo();
    await refreshPlannerStatistics(handle, true, log);
    log(
      [
        "",
        "  Meshport demo is running at " + portalUrl(),
        `  Sign in as ${admin.email} with the password: ${admin.password}`,
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

/**
 * Brings the query planner's statistics up to date after bulk writes (backfills, the demo seed): searches and pages
 * pick their index by them. PGlite has no autovacuum, so there they are refreshed at every start; PostgreSQL's own
 * autovacuum catches up in time, but only after a bulk write has been served with stale plans.
 */
async function refreshPlannerStatistics(handle: DatabaseHandle, bulkWritten: boolean, log: (line: string) => void): Promise<void> {
  if (!bulkWritten && handle.driver !== "pglite") return;
  const started = performance.now();
  try {
    await handle.db.execute(sql`analyze`);
  } catch (error) {
    // Statistics make plans better, not answers right: a failure is reported and the portal starts.
    log(`meshport: could not refresh the planner statistics (${error instanceof Error ? error.message : String(error)})`);
    return;
  }
  const ms = Math.round(performance.now() - started);
  if (ms >= 1000) log(`meshport: refreshed the planner statistics in ${ms} ms`);
}
