import { checkHealth } from "@/lib/health/health.ts";
import { json } from "../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Liveness and readiness: 200 when the database answers, 503 otherwise. Public. */
export async function GET(): Promise<Response> {
  const report = await checkHealth();
  return json(report, report.status === "ok" ? 200 : 503);
}
