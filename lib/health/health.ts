import "server-only";
import { getDatabaseHandle, pingDatabase } from "@/db/client.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { listBrokers } from "@/lib/brokers/brokers.ts";

/** The state of one dependency. */
export interface ComponentHealth {
  status: "ok" | "down";
  latencyMs?: number;
  detail?: string;
}

/** What `/api/v1/health` reports. */
export interface HealthReport {
  status: "ok" | "degraded";
  version: string;
  uptimeSeconds: number;
  components: {
    app: ComponentHealth;
    database: ComponentHealth & { driver?: string };
    /** Agents reporting now, gone quiet, or declared brokers without one. Informational: never degrades health. */
    brokers?: { online: number; stale: number; never: number };
  };
}

const startedAt = Date.now();

/** Checks the app and its database (a round trip, bounded by a timeout). */
export async function checkHealth(timeoutMs = 2000): Promise<HealthReport> {
  const database = await checkDatabase(timeoutMs);
  const brokers = database.status === "ok" ? await brokerCounts().catch(() => undefined) : undefined;
  return {
    status: database.status === "ok" ? "ok" : "degraded",
    version: process.env.npm_package_version ?? "0.1.0",
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    components: { app: { status: "ok" }, database, ...(brokers ? { brokers } : {}) },
  };
}

async function checkDatabase(timeoutMs: number): Promise<ComponentHealth & { driver?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const handle = await Promise.race([getDatabaseHandle(), timeout]);
    await Promise.race([pingDatabase(handle.db), timeout]);
    return { status: "ok", driver: handle.driver, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { status: "down", detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

async function brokerCounts(): Promise<{ online: number; stale: number; never: number }> {
  const counts = { online: 0, stale: 0, never: 0 };
  for (const b of await listBrokers(systemPrincipal("health"))) counts[b.status] += 1;
  return counts;
}
