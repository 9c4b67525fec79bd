import { checkHealth } from "@/lib/health/health.ts";
import { json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Liveness and readiness: 200 when the database answers, 503 otherwise. Public. */
export async function GET(): Promise<Response> {
  const report = await checkHealth();
  return json(report, report.status === "ok" ? 200 : 503);
}

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
