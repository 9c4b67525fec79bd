/**
 * The broker agent: observes everything one broker lets it see, learns
 * producers and consumers where the broker tells, and reports windows to the
 * portal through a durable spool. The core here is the same for every kind of
 * broker; a {@link BrokerSource} connects to the broker (MQTT: agents/mqtt-source.ts).
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import pino, { type Logger } from "pino";
import type { AgentRuntimeStats, MetricsServer } from "./metrics.ts";
import type { BrokerEvent } from "./mosquitto-log.ts";
import type { BrokerEventSource } from "./mqtt-source.ts";
import { Observer } from "./observer.ts";
import { emptyDrops, MAX_BRIDGES, MAX_CLIENTS_PER_TEMPLATE, MAX_LABEL_CHARS, MAX_URL_CHARS, type DropCounters } from "./protocol.ts";
import { encodePart, planWindow } from "./report.ts";
import { fetchChannels, Reporter, type DrainResult } from "./reporter.ts";
import type { BrokerSource, SourceSink } from "./source.ts";
import { Spool } from "./spool.ts";
import { ConsumerTracker } from "./tracker.ts";
import { sanitizeUrl } from "./url.ts";

export { sanitizeUrl, type BrokerEventSource };

/** Version of the agent, reported with each batch. */
export const AGENT_VERSION = "0.1.0";

/**
 * Options of {@link startAgent}; only broker, brokerId, portal and token are required.
 * The MQTT options (credentials, TLS, mqttVersion, brokerLog, brokerEvents, subscribeQos,
 * reconnectPeriodMs) build the MQTT source when no `source` is given.
 */
export interface AgentOptions {
  /** broker URL: mqtt://, mqtts://, ws://, wss:// (with `source`: informational, the source's own URL is reported) */
  broker: string;
  /** the broker's id in the mesh, e.g. `plant-eu` */
  brokerId: string;
  /** portal base URL */
  portal: string;
  /** portal token with the agent:report scope */
  token: string;
  username?: string;
  password?: string;
  /** PEM files for TLS: CA bundle, client certificate and key */
  ca?: string;
  cert?: string;
  key?: string;
  /** MQTT protocol level: 3 (3.1), 4 (3.1.1, default) or 5 */
  mqttVersion?: 3 | 4 | 5;
  /** client id of the agent (default meshport-agent-<brokerId>-<random>) */
  clientId?: string;
  /** stable agent id (default: persisted in the spool) */
  agentId?: string;
  /** spool directory (default .data/agent-spool/<brokerId>) */
  spool?: string;
  spoolMaxBytes?: number;
  spoolMaxFiles?: number;
  /** Mosquitto log file to follow for publishers */
  brokerLog?: string;
  /** read the broker log from its start (default: only new lines) */
  brokerLogFromStart?: boolean;
  brokerLogPollMs?: number;
  /** broker events from hooks (embedded broker) */
  brokerEvents?: BrokerEventSource;
  /** metrics/health port (undefined: no server; 0: any free port) */
  metricsPort?: number;
  metricsHost?: string;
  /** report window in seconds (default 10) */
  intervalSeconds?: number;
  /** how often the channel list is refreshed, in seconds (default 60) */
  channelsRefreshSeconds?: number;
  /** JSON field names redacted in samples */
  redact?: string[];
  maxTopics?: number;
  maxTemplates?: number;
  samplesPerTemplate?: number;
  collapseThreshold?: number;
  /** QoS of the agent's `#` subscription (default 2, so the delivered QoS is the published one) */
  subscribeQos?: 0 | 1 | 2;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** broker reconnect period in ms (default 1000) */
  reconnectPeriodMs?: number;
  logger?: Logger;
  logLevel?: string;
  /** the broker to observe (NATS, RabbitMQ…); default: an MQTT source built from these options */
  source?: BrokerSource;
}

/** Outcome of {@link AgentHandle.flush}. */
export interface FlushResult extends DrainResult {
  /** batches written to the spool by this flush */
  spooled: number;
}

/** A running agent. */
export interface AgentHandle {
  agentId: string;
  clientId: string;
  /** metrics base URL, when a metrics port was given */
  metricsUrl: string | null;
  /** Current counters. */
  stats(): AgentRuntimeStats;
  /** Closes the current window now, spools it, and tries to deliver the whole spool once. */
  flush(): Promise<FlushResult>;
  /** Resolves once the agent is subscribed to the broker (rejects after the timeout). */
  whenSubscribed(timeoutMs?: number): Promise<void>;
  /** Closes the window, spools it, tries to deliver once (unless flush is false), then disconnects. */
  stop(options?: { flush?: boolean }): Promise<void>;
}

/** Creates the agent's JSON logger; the token and passwords are never written. */
export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { component: "meshport-agent" },
    redact: { paths: ["token", "password", "*.token", "*.password", "authorization", "*.authorization"], censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Starts an agent; it keeps running (and reconnecting) until stop() is called. */
export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const logger = options.logger ?? createLogger(options.logLevel);
  const startedAt = Date.now();
  const spool = await Spool.open(
    path.resolve(options.spool ?? path.join(".data", "agent-spool", options.brokerId)),
    { maxBytes: options.spoolMaxBytes, maxFiles: options.spoolMaxFiles },
    options.agentId,
  );
  // The MQTT client library loads only for an MQTT broker: NATS and RabbitMQ agents do without it.
  const source =
    options.source ??
    (await import("./mqtt-source.ts")).createMqttSource({
      ...options,
      clientId: options.clientId ?? `meshport-agent-${options.brokerId}-${randomBytes(3).toString("hex")}`,
    });
  const clientId = source.clientId;
  // Informational for the portal, which stores at most MAX_URL_CHARS.
  const brokerUrl = sanitizeUrl(source.url).slice(0, MAX_URL_CHARS);
  const log = logger.child({ agentId: spool.agentId, brokerId: options.brokerId });

  // Listen first: a port already in use must fail start-up before anything else is running.
  let metrics: MetricsServer | null = null;
  if (options.metricsPort !== undefined) {
    const read = () => stats();
    // prom-client loads only when metrics are served: an agent without them does without its memory.
    const { createRegistry, startMetricsServer } = await import("./metrics.ts");
    metrics = await startMetricsServer(options.metricsPort, options.metricsHost ?? "127.0.0.1", createRegistry(read), read);
    log.info({ url: metrics.url }, "metrics and health endpoint listening");
  }

  const observer = new Observer({
    maxTopics: options.maxTopics,
    maxTemplates: options.maxTemplates,
    samplesPerTemplate: options.samplesPerTemplate,
    collapseThreshold: options.collapseThreshold,
    redact: options.redact,
    dialect: source.dialect,
  });
  const tracker = new ConsumerTracker({ ignoreClientIds: [clientId], dialect: source.dialect });

  // Totals since start, for metrics; per-window figures live in the observer.
  const totals = {
    messages: 0,
    bytes: 0,
    samples: 0,
    spooled: 0,
    drops: emptyDrops(),
  };
  const pendingDrops: DropCounters = emptyDrops();
  let trackerDropsReported = 0;
  let trackerInvalidReported = 0;
  let stopCalled = false;
  let stopping = false;
  let subscribedWaiters: Array<() => void> = [];

  const reporter = new Reporter({
    spool,
    portalUrl: options.portal,
    token: options.token,
    logger: log,
    backoffBaseMs: options.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs,
  });

  const applyEvent = (ev: BrokerEvent) => {
    switch (ev.type) {
      case "subscribe":
        tracker.subscribed(ev.clientId, ev.filter, ev.qos);
        return;
      case "unsubscribe":
        tracker.unsubscribed(ev.clientId, ev.filter);
        return;
      case "connect":
        tracker.connected(ev.clientId, ev.clean);
        return;
      case "disconnect":
        tracker.disconnected(ev.clientId);
        return;
      case "publish":
        if (ev.clientId !== clientId && !(source.dialect.reservedDollar && ev.topic.startsWith("$"))) observer.observeProducer(ev.topic, ev.clientId, ev.bytes);
        return;
    }
  };

  // What the source sees goes into the window; after stop() nothing does.
  const sink: SourceSink = {
    message(topic, payload, qos, retain, exchange) {
      if (stopping) return;
      totals.messages++;
      totals.bytes += payload.length;
      observer.observe(topic, payload, qos, retain, Date.now(), exchange);
    },
    event(ev) {
      if (!stopping) applyEvent(ev);
    },
    subscriptions(all) {
      if (!stopping) tracker.replaceAll(all);
    },
    malformed(count = 1) {
      observer.countMalformed(count);
    },
    ready() {
      for (const w of subscribedWaiters) w();
      subscribedWaiters = [];
    },
  };
  try {
    await source.start(sink, log);
  } catch (err) {
    await metrics?.close();
    throw err;
  }

  // Channel templates from the portal.
  const refreshChannels = async () => {
    const channels = await fetchChannels(options.portal, options.token);
    if (channels) {
      observer.setChannels(channels);
      log.debug({ channels: channels.length }, "channel templates refreshed");
    }
  };
  void refreshChannels();
  const channelTimer = setInterval(() => void refreshChannels(), (options.channelsRefreshSeconds ?? 60) * 1000);
  channelTimer.unref();

  // Window closing is serialised: the timer and flush() never interleave.
  let closing: Promise<number> = Promise.resolve(0);
  const closeWindow = (): Promise<number> => {
    // A failed close (disk full) must not wedge the chain for every later window.
    closing = closing.catch(() => 0).then(async () => {
      const snap = observer.close(Date.now(), (template) => tracker.consumersOf(template, MAX_CLIENTS_PER_TEMPLATE));
      const status = source.status();
      const trackerDrops = tracker.dropped - trackerDropsReported;
      trackerDropsReported = tracker.dropped;
      pendingDrops.clientCap += trackerDrops;
      // Invalid or over-long subscriptions are malformed input, like invalid topics.
      pendingDrops.malformed += tracker.invalid - trackerInvalidReported;
      trackerInvalidReported = tracker.invalid;
      const extra = { ...pendingDrops };
      for (const k of Object.keys(pendingDrops) as Array<keyof DropCounters>) pendingDrops[k] = 0;
      const stats = {
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        messagesSeen: snap.messages,
        bytesSeen: snap.bytes,
        topicsTracked: snap.topicsTracked,
        templatesTracked: snap.templatesTracked,
        samplesKept: snap.samplesKept,
        brokerConnected: status.connected,
        reconnects: status.reconnects,
        spooledBatches: spool.pendingCount,
        spooledBytes: spool.pendingBytes,
        rejectedBatches: spool.rejectedCount,
        logLinesRead: status.logLinesRead,
        rssBytes: process.memoryUsage.rss(),
      };
      totals.samples += snap.samplesKept;
      lastWindow = { topics: snap.topicsTracked, templates: snap.templatesTracked };
      const ctx = {
        agent: { id: spool.agentId, version: AGENT_VERSION, hostname: os.hostname().slice(0, MAX_LABEL_CHARS), startedAt: new Date(startedAt).toISOString() },
        broker: {
          id: options.brokerId,
          url: brokerUrl,
          protocol: source.protocol,
          protocolVersion: status.protocolVersion,
          version: status.brokerVersion?.slice(0, MAX_LABEL_CHARS) ?? null,
          clientsConnected: status.clientsConnected,
        },
        capabilities: status.capabilities,
        extraDrops: extra,
        stats,
        bridges: status.bridges?.slice(0, MAX_BRIDGES),
        inventory: status.inventory,
      };
      // Parts are planned from estimates and rendered one at a time: a big window is never held twice.
      const ranges = planWindow(snap);
      const first = await spool.reserveSequences(ranges.length);
      for (let part = 0; part < ranges.length; part++) {
        const report = await encodePart(snap, ctx, ranges, part, first + part);
        for (const [k, v] of Object.entries(report.drops)) totals.drops[k as keyof DropCounters] += v;
        let evicted: number;
        try {
          evicted = await spool.put(report.sequence, report.batchId, report.body);
        } catch (err) {
          // Disk full or unwritable: the batch is lost, so say so in the next one.
          pendingDrops.spoolCap++;
          log.error({ err: String(err), spool: spool.dir, sequence: report.sequence }, "could not write a batch to the spool; it is lost");
          continue;
        }
        if (evicted) {
          pendingDrops.spoolCap += evicted;
          log.error({ evicted, pending: spool.pendingCount }, "spool full: oldest batches deleted unsent");
        }
        totals.spooled++;
      }
      log.debug({ batches: ranges.length, templates: snap.size, messages: snap.messages }, "window spooled");
      return ranges.length;
    });
    return closing;
  };
  let lastWindow = { topics: 0, templates: 0 };

  const windowTimer = setInterval(
    () => {
      closeWindow().then(
        () => reporter.kick(),
        (err: unknown) => log.error({ err: String(err) }, "could not spool a report window"),
      );
    },
    (options.intervalSeconds ?? 10) * 1000,
  );
  // Replay what a previous run left in the spool.
  if (spool.pendingCount) log.info({ pending: spool.pendingCount }, "replaying spooled batches");
  reporter.kick();

  const stats = (): AgentRuntimeStats => {
    const status = source.status();
    return {
      agentId: spool.agentId,
      clientId,
      brokerConnected: status.connected,
      subscribed: status.subscribed,
      reconnects: status.reconnects,
      messagesTotal: totals.messages,
      bytesTotal: totals.bytes,
      topicsTracked: observer.topicsTracked || lastWindow.topics,
      templatesTracked: observer.templatesTracked || lastWindow.templates,
      samplesTotal: totals.samples,
      sampleBytesHeld: observer.sampleBytesHeld,
      batchesSpooledTotal: totals.spooled,
      batchesSentTotal: reporter.sentTotal,
      batchesRejectedTotal: reporter.rejectedTotal,
      spoolPending: spool.pendingCount,
      spoolBytes: spool.pendingBytes,
      spoolRejected: spool.rejectedCount,
      dropsTotal: addDrops(totals.drops, observer.drops),
      lastReportAt: reporter.lastSuccessAt,
      lastError: reporter.lastError,
      logLinesRead: status.logLinesRead,
      channels: observer.channelCount,
      consumersTracked: tracker.consumerCount,
    };
  };

  log.info({ broker: brokerUrl, protocol: source.protocol, portal: options.portal, spool: spool.dir, intervalSeconds: options.intervalSeconds ?? 10 }, "agent started");

  return {
    agentId: spool.agentId,
    clientId,
    metricsUrl: metrics?.url ?? null,
    stats,
    async flush() {
      const spooled = await closeWindow();
      return { spooled, ...(await reporter.drain()) };
    },
    whenSubscribed(timeoutMs = 15_000) {
      if (source.status().subscribed) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not subscribed to ${brokerUrl} after ${timeoutMs} ms`)), timeoutMs);
        subscribedWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async stop(stopOptions = {}) {
      if (stopCalled) return;
      stopCalled = true;
      clearInterval(windowTimer);
      clearInterval(channelTimer);
      await source.stop().catch((err: unknown) => log.warn({ err: String(err) }, "could not stop the broker source cleanly"));
      stopping = true;
      // Spool the last partial window: a graceful stop loses nothing either.
      await closeWindow().catch((err: unknown) => log.error({ err: String(err) }, "could not spool the last window"));
      if (stopOptions.flush !== false) await reporter.drain().catch(() => {});
      await reporter.stop();
      await metrics?.close();
      log.info({ pending: spool.pendingCount }, "agent stopped");
    },
  };
}

function addDrops(a: DropCounters, b: DropCounters): DropCounters {
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof DropCounters>) out[k] += b[k];
  return out;
}
