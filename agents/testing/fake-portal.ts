/**
 * A minimal portal for tests, the demo and the benchmark: accepts reports on
 * loopback, validates them with the shared schema, dedupes by batchId, and can
 * be switched to fail.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { agentReportSchema, INGEST_CHANNELS_PATH, INGEST_REPORTS_PATH, type AgentReport, type ChannelTemplate } from "../protocol.ts";

/** How the fake portal answers reports. */
export type FakePortalMode = "ok" | "unavailable" | "malformed" | "unauthorized";

/** A running fake portal. */
export interface FakePortal {
  url: string;
  /** accepted reports, in arrival order, each batchId once */
  reports: AgentReport[];
  /** every POST, including refused and duplicate ones */
  requests: Array<{ status: number; batchId: string | null }>;
  mode: FakePortalMode;
  /** the next N accepted reports are stored but their answer is lost (connection reset) */
  loseAnswers: number;
  /** channel templates served; null answers 404 */
  channels: ChannelTemplate[] | null;
  /** Polls until the predicate holds, or throws after the timeout. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts a fake portal on a free loopback port; `token` is the bearer it requires. */
export async function startFakePortal(token = "test-token"): Promise<FakePortal> {
  const seen = new Set<string>();
  const portal: FakePortal = {
    url: "",
    reports: [],
    requests: [],
    mode: "ok",
    loseAnswers: 0,
    channels: null,
    async waitFor(predicate, timeoutMs = 20_000, what = "condition") {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    const authorized = req.headers.authorization === `Bearer ${token}`;
    if (req.method === "GET" && req.url === INGEST_CHANNELS_PATH) {
      if (portal.channels === null) return json(404, { error: { code: "not_found", message: "no channels endpoint" } });
      return json(authorized ? 200 : 401, authorized ? { channels: portal.channels } : { error: { code: "unauthorized", message: "bad token" } });
    }
    if (req.method !== "POST" || req.url !== INGEST_REPORTS_PATH) return json(404, { error: { code: "not_found", message: "not found" } });
    const body = await readBody(req);
    const record = (status: number, batchId: string | null, payload: unknown) => {
      portal.requests.push({ status, batchId });
      json(status, payload);
    };
    if (portal.mode === "unavailable") return record(503, null, { error: { code: "unavailable", message: "portal down" } });
    if (!authorized || portal.mode === "unauthorized") return record(401, null, { error: { code: "unauthorized", message: "bad token" } });
    let parsed: unknown;
    try {
      parsed = JSON.parse((req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("utf8"));
    } catch {
      return record(400, null, { error: { code: "bad_request", message: "not gzip JSON" } });
    }
    const result = agentReportSchema.safeParse(parsed);
    if (!result.success) return record(422, null, { error: { code: "invalid", message: "report does not match the schema", details: result.error.issues.slice(0, 5) } });
    const report = result.data;
    if (portal.mode === "malformed") return record(422, report.batchId, { error: { code: "invalid", message: "refused by test" } });
    if (seen.has(report.batchId)) return record(409, report.batchId, { accepted: true, duplicate: true, batchId: report.batchId });
    seen.add(report.batchId);
    portal.reports.push(report);
    if (portal.loseAnswers > 0) {
      portal.loseAnswers--;
      portal.requests.push({ status: 0, batchId: report.batchId });
      res.socket?.destroy();
      return;
    }
    record(202, report.batchId, { accepted: true, duplicate: false, batchId: report.batchId });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  portal.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  portal.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return portal;
}

/** Messages counted per topic across reports, $-topics excluded. */
export function countMessages(reports: readonly AgentReport[]): number {
  let n = 0;
  for (const r of reports) for (const t of r.topics) n += t.messages;
  return n;
}
