/**
 * Health and Prometheus metrics over a small HTTP server. Values are read
 * from the agent's own counters at scrape time, so the message hot path
 * never touches prom-client.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { dropReasonSchema } from "./protocol.ts";

/** Counters and gauges the agent exposes; totals are since process start. */
export interface AgentRuntimeStats {
  agentId: string;
  clientId: string;
  brokerConnected: boolean;
  subscribed: boolean;
  reconnects: number;
  messagesTotal: number;
  bytesTotal: number;
  topicsTracked: number;
  templatesTracked: number;
  samplesTotal: number;
  sampleBytesHeld: number;
  batchesSpooledTotal: number;
  batchesSentTotal: number;
  batchesRejectedTotal: number;
  spoolPending: number;
  spoolBytes: number;
  spoolRejected: number;
  dropsTotal: Record<"topicCap" | "templateCap" | "sampleCap" | "clientCap" | "spoolCap" | "malformed", number>;
  lastReportAt: number;
  lastError: string | null;
  logLinesRead: number;
  channels: number;
  consumersTracked: number;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Builds the Prometheus registry over a stats reader. */
export function createRegistry(read: () => AgentRuntimeStats): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: "meshport_agent_process_" });
  const counter = (name: string, help: string, value: (s: AgentRuntimeStats) => number) =>
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        this.reset();
        this.inc(value(read()));
      },
    });
  const gauge = (name: string, help: string, value: (s: AgentRuntimeStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [register],
      collect() {
        this.set(value(read()));
      },
    });
  counter("meshport_agent_messages_total", "Messages seen on the broker.", (s) => s.messagesTotal);
  counter("meshport_agent_bytes_total", "Payload bytes seen on the broker.", (s) => s.bytesTotal);
  counter("meshport_agent_samples_total", "Payload samples taken.", (s) => s.samplesTotal);
  counter("meshport_agent_batches_spooled_total", "Report batches written to the spool.", (s) => s.batchesSpooledTotal);
  counter("meshport_agent_batches_sent_total", "Report batches the portal accepted.", (s) => s.batchesSentTotal);
  counter("meshport_agent_batches_rejected_total", "Report batches the portal refused as malformed (kept in rejected/).", (s) => s.batchesRejectedTotal);
  counter("meshport_agent_reconnects_total", "Reconnections to the broker.", (s) => s.reconnects);
  counter("meshport_agent_broker_log_lines_total", "Broker log-file lines read.", (s) => s.logLinesRead);
  gauge("meshport_agent_topics_tracked", "Distinct topics in the current window.", (s) => s.topicsTracked);
  gauge("meshport_agent_templates_tracked", "Topic templates in the current window.", (s) => s.templatesTracked);
  gauge("meshport_agent_sample_bytes", "Bytes held by payload samples.", (s) => s.sampleBytesHeld);
  gauge("meshport_agent_spool_batches", "Batches waiting in the spool.", (s) => s.spoolPending);
  gauge("meshport_agent_spool_bytes", "Bytes waiting in the spool.", (s) => s.spoolBytes);
  gauge("meshport_agent_rejected_batches", "Batches kept in rejected/.", (s) => s.spoolRejected);
  gauge("meshport_agent_broker_connected", "1 when connected to the broker.", (s) => (s.brokerConnected ? 1 : 0));
  gauge("meshport_agent_last_report_timestamp_seconds", "Time of the last batch the portal accepted (0: never).", (s) => s.lastReportAt / 1000);
  gauge("meshport_agent_channels", "Contract channel templates known.", (s) => s.channels);
  gauge("meshport_agent_consumers_tracked", "Clients with tracked subscriptions.", (s) => s.consumersTracked);
  new Counter({
    name: "meshport_agent_dropped_total",
    help: "Items dropped to stay bounded, by reason.",
    labelNames: ["reason"],
    registers: [register],
    collect() {
      this.reset();
      const drops = read().dropsTotal;
      for (const reason of dropReasonSchema.options) this.inc({ reason }, drops[reason]);
    },
  });
  return register;
}

/** Starts `/healthz` (liveness, always 200), `/readyz` (503 until subscribed to the broker) and `/metrics`. */
export async function startMetricsServer(port: number, host: string, register: Registry, read: () => AgentRuntimeStats): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    if (url === "/healthz" || url === "/readyz") {
      const s = read();
      const ready = s.brokerConnected && s.subscribed;
      const body = {
        status: ready ? "ok" : "degraded",
        agentId: s.agentId,
        brokerConnected: s.brokerConnected,
        subscribed: s.subscribed,
        lastReportAt: s.lastReportAt ? new Date(s.lastReportAt).toISOString() : null,
        spoolPending: s.spoolPending,
        lastError: s.lastError,
      };
      res.writeHead(url === "/readyz" && !ready ? 503 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    if (url === "/metrics") {
      register.metrics().then(
        (text) => res.writeHead(200, { "content-type": register.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
