import "server-only";
import type { AgentReport } from "@/agents/protocol.ts";
import type { Transaction } from "@/db/client.ts";
import type { Application } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";

/**
 * Where drift is evaluated, in the transaction of the change that causes it: every stored report,
 * every change of what the contracts declare (a publish, a lifecycle change, new client-id patterns).
 */

/** After an agent report is stored: the rules over the report's topics, and the channel activity. */
export async function driftOnReport(tx: Transaction, principal: Principal, report: AgentReport): Promise<void> {
  void tx;
  void principal;
  void report;
}

/** After an application's contracts or client-id patterns changed: a new catalog generation, the app's topics judged again. */
export async function driftOnCatalogChange(tx: Transaction, principal: Principal, app: Application): Promise<void> {
  void tx;
  void principal;
  void app;
}
