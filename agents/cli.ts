/**
 * `meshport-agent`: command-line entry of the broker agent. Options come from
 * the command line, then the environment (MESHPORT_AGENT_TOKEN,
 * MESHPORT_AGENT_PASSWORD, so secrets stay out of `ps`), then a JSON config
 * file (`--config`, same keys as the long options, camelCase or kebab-case).
 * `--kind` picks the broker: MQTT (default), NATS or RabbitMQ (AMQP 0-9-1); the
 * NATS and RabbitMQ sources load only when asked for, so an MQTT agent never loads
 * their client libraries.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { z } from "zod";
import { AGENT_VERSION, createLogger, startAgent, type AgentOptions } from "./agent.ts";
import type { AmqpSourceOptions } from "./amqp-source.ts";
import type { NatsSourceOptions } from "./nats-source.ts";
import { BROKER_PROTOCOLS, MAX_URL_CHARS } from "./protocol.ts";
import type { BrokerSource } from "./source.ts";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.union([z.string().transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean)), z.array(z.string())]);
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
const httpUrl = z.url({ protocol: /^https?$/ }).max(MAX_URL_CHARS);

/** Broker URLs each kind accepts (NATS: a comma-separated server list, scheme optional). */
const BROKER_URLS = {
  mqtt: { pattern: /^(mqtts?|wss?|tcp|ssl):\/\//, example: "mqtt://127.0.0.1:1883" },
  nats: { pattern: /^((nats|tls|wss?):\/\/[^\s,]+|[\w.-]+:\d+)(,((nats|tls|wss?):\/\/[^\s,]+|[\w.-]+:\d+))*$/, example: "nats://127.0.0.1:4222" },
  amqp: { pattern: /^amqps?:\/\//, example: "amqp://127.0.0.1:5672" },
} as const;

/** Options that belong to one kind of broker only. */
const ONLY_FOR: Record<string, (typeof BROKER_PROTOCOLS)[number]> = {
  mqttVersion: "mqtt",
  brokerLog: "mqtt",
  monitor: "nats",
  management: "amqp",
  vhost: "amqp",
  exchanges: "amqp",
  firehose: "amqp",
};

/** The agent's settings after merging command line, environment and config file. */
export const cliConfigSchema = z
  .object({
    /** the kind of broker (default mqtt) */
    kind: z.enum(BROKER_PROTOCOLS).default("mqtt"),
    broker: z
      .string()
      .max(MAX_URL_CHARS)
      .refine((v) => Object.values(BROKER_URLS).some((u) => u.pattern.test(v)), "a broker URL such as mqtt://127.0.0.1:1883 (nats://…, amqp://… with --kind)"),
    brokerId: z.string().min(1).max(200),
    portal: z.url(),
    token: z.string().min(1, "a portal token with the agent:report scope (or MESHPORT_AGENT_TOKEN)"),
    username: z.string().optional(),
    password: z.string().optional(),
    ca: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    clientId: z.string().optional(),
    agentId: z.string().min(1).max(200).optional(),
    spool: z.string().optional(),
    spoolMaxBytes: int(1_024, Number.MAX_SAFE_INTEGER).optional(),
    spoolMaxFiles: int(1, 10_000_000).optional(),
    brokerLog: z.string().optional(),
    metricsPort: int(0, 65_535).optional(),
    metricsHost: z.string().optional(),
    interval: z.coerce.number().min(0.1).max(3_600).optional(),
    redact: list.optional(),
    maxTopics: int(1, 10_000_000).optional(),
    maxTemplates: int(1, 10_000_000).optional(),
    samples: int(0, 5).optional(),
    collapseThreshold: int(2, 100_000).optional(),
    mqttVersion: z.coerce.number().pipe(z.union([z.literal(3), z.literal(4), z.literal(5)])).optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
    /** NATS: the server's monitoring endpoint (`-m PORT`), for subscriptions, routes, leafnodes, JetStream */
    monitor: httpUrl.optional(),
    /** RabbitMQ: the management API, for exchanges, queues, bindings, consumers, shovels, federation */
    management: httpUrl.optional(),
    vhost: z.string().min(1).max(255).optional(),
    exchanges: list.pipe(z.array(z.string().max(255)).max(200)).optional(),
    firehose: flag.optional(),
    /** NATS and RabbitMQ: how often the monitoring or management API is polled, in seconds */
    poll: z.coerce.number().min(1).max(3_600).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const url = BROKER_URLS[c.kind];
    if (!url.pattern.test(c.broker)) ctx.addIssue({ code: "custom", path: ["broker"], message: `a ${c.kind} broker URL such as ${url.example}` });
    for (const [key, kind] of Object.entries(ONLY_FOR)) {
      if (c[key as keyof typeof c] !== undefined && c.kind !== kind) ctx.addIssue({ code: "custom", path: [key], message: `only for --kind ${kind}` });
    }
    if (c.kind === "amqp" && !c.management) ctx.addIssue({ code: "custom", path: ["management"], message: "the RabbitMQ management API URL, e.g. http://127.0.0.1:15672" });
  });
/** Merged CLI settings. */
export type CliConfig = z.infer<typeof cliConfigSchema>;

const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Maps merged CLI settings onto startAgent options. */
export function toAgentOptions(c: CliConfig): AgentOptions {
  return {
    broker: c.broker,
    brokerId: c.brokerId,
    portal: c.portal,
    token: c.token,
    username: c.username,
    password: c.password,
    ca: c.ca,
    cert: c.cert,
    key: c.key,
    clientId: c.clientId,
    agentId: c.agentId,
    spool: c.spool,
    spoolMaxBytes: c.spoolMaxBytes,
    spoolMaxFiles: c.spoolMaxFiles,
    brokerLog: c.brokerLog,
    metricsPort: c.metricsPort,
    metricsHost: c.metricsHost,
    intervalSeconds: c.interval,
    redact: c.redact,
    maxTopics: c.maxTopics,
    maxTemplates: c.maxTemplates,
    samplesPerTemplate: c.samples,
    collapseThreshold: c.collapseThreshold,
    mqttVersion: c.mqttVersion as 3 | 4 | 5 | undefined,
    logLevel: c.logLevel,
  };
}

/** Maps merged CLI settings onto the NATS source's options. */
export function toNatsOptions(c: CliConfig): NatsSourceOptions {
  return {
    servers: c.broker,
    monitorUrl: c.monitor,
    user: c.username,
    pass: c.password,
    ca: c.ca,
    cert: c.cert,
    key: c.key,
    name: c.clientId,
    pollSeconds: c.poll,
    brokerId: c.brokerId,
  };
}

/** Maps merged CLI settings onto the RabbitMQ source's options. */
export function toAmqpOptions(c: CliConfig): AmqpSourceOptions {
  return {
    url: c.broker,
    managementUrl: c.management!,
    vhost: c.vhost,
    exchanges: c.exchanges,
    firehose: c.firehose,
    user: c.username,
    password: c.password,
    name: c.clientId,
    pollSeconds: c.poll,
    brokerId: c.brokerId,
  };
}

/** The broker source for the settings' kind; undefined for MQTT, which startAgent builds itself. Loaded lazily. */
export async function createSource(c: CliConfig): Promise<BrokerSource | undefined> {
  if (c.kind === "nats") {
    const { createNatsSource } = await import("./nats-source.ts");
    return createNatsSource(toNatsOptions(c));
  }
  if (c.kind === "amqp") {
    const { createAmqpSource } = await import("./amqp-source.ts");
    return createAmqpSource(toAmqpOptions(c));
  }
  return undefined;
}

function program(): Command {
  const positive = (v: string) => {
    if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError("expected a number");
    return v;
  };
  return new Command("meshport-agent")
    .description("Observe an MQTT, NATS or RabbitMQ broker (topics, rates, payload schemas, producers, consumers, links) and report to the Meshport portal.")
    .version(AGENT_VERSION)
    .option("--kind <mqtt|nats|amqp>", "kind of broker (default mqtt)")
    .option("--broker <url>", "broker URL (mqtt://, mqtts://, ws://, wss://; nats://host:4222[,…]; amqp://, amqps://)")
    .option("--broker-id <id>", "id of this broker in the mesh, e.g. plant-eu")
    .option("--portal <url>", "portal base URL")
    .option("--token <token>", "portal token with the agent:report scope (prefer MESHPORT_AGENT_TOKEN)")
    .option("--username <name>", "broker user name")
    .option("--password <password>", "broker password (prefer MESHPORT_AGENT_PASSWORD)")
    .option("--ca <file>", "PEM CA bundle for TLS")
    .option("--cert <file>", "PEM client certificate")
    .option("--key <file>", "PEM client key")
    .option("--client-id <id>", "client id (MQTT) or connection name (NATS, RabbitMQ) of the agent")
    .option("--agent-id <id>", "stable agent id (default: generated and kept in the spool)")
    .option("--spool <dir>", "spool directory (default .data/agent-spool/<broker-id>)")
    .option("--spool-max-bytes <n>", "spool size cap in bytes", positive)
    .option("--spool-max-files <n>", "spool file-count cap", positive)
    .option("--config <file>", "JSON config file with the same keys")
    .option("--broker-log <file>", "Mosquitto log file to follow for publishers (log_type all)")
    .option("--metrics-port <n>", "port of /healthz, /readyz and /metrics", positive)
    .option("--metrics-host <host>", "address of the metrics endpoint (default 127.0.0.1)")
    .option("--interval <seconds>", "report window in seconds (default 10)", positive)
    .option("--redact <fields>", "comma-separated JSON field names redacted in samples")
    .option("--max-topics <n>", "cap on distinct topics per window (default 100000)", positive)
    .option("--max-templates <n>", "cap on topic templates per window (default 10000)", positive)
    .option("--samples <n>", "samples kept per template, 0-5 (default 5)", positive)
    .option("--collapse-threshold <n>", "distinct values at a level before it becomes a placeholder (default 20)", positive)
    .option("--mqtt-version <3|4|5>", "MQTT protocol level (default 4 = 3.1.1)", positive)
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (default info)")
    .option("--monitor <url>", "NATS: monitoring endpoint, e.g. http://127.0.0.1:8222 (subscriptions, routes, leafnodes, JetStream)")
    .option("--management <url>", "RabbitMQ: management API, e.g. http://127.0.0.1:15672 (required with --kind amqp)")
    .option("--vhost <vhost>", "RabbitMQ: virtual host observed (default: the URL's, else /)")
    .option("--exchanges <names>", "RabbitMQ: comma-separated exchanges observed (default: every topic exchange)")
    .option("--firehose", "RabbitMQ: learn producers from the firehose tracer (amq.rabbitmq.trace; tracing on for the vhost)")
    .option("--poll <seconds>", "NATS, RabbitMQ: how often the monitoring or management API is polled", positive);
}

/** Reads argv (as in process.argv) and the config file into validated settings; throws on invalid input. */
export function resolveConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): CliConfig {
  const cmd = program().exitOverride();
  cmd.parse([...argv]);
  const flags = cmd.opts<Record<string, unknown>>();
  let fromFile: Record<string, unknown> = {};
  if (typeof flags.config === "string") {
    const raw = JSON.parse(readFileSync(flags.config, "utf8")) as unknown;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${flags.config}: expected a JSON object`);
    fromFile = Object.fromEntries(Object.entries(raw).map(([k, v]) => [camel(k), v]));
  }
  const fromEnv: Record<string, unknown> = {};
  if (env.MESHPORT_AGENT_TOKEN) fromEnv.token = env.MESHPORT_AGENT_TOKEN;
  if (env.MESHPORT_AGENT_PASSWORD) fromEnv.password = env.MESHPORT_AGENT_PASSWORD;
  const fromFlags = Object.fromEntries(Object.entries(flags).filter(([k, v]) => k !== "config" && v !== undefined));
  const parsed = cliConfigSchema.safeParse({ ...fromFile, ...fromEnv, ...fromFlags });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  --${i.path.join(".").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) || "(config)"}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** Runs the agent until SIGINT or SIGTERM; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let config: CliConfig;
  try {
    config = resolveConfig(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
    process.stderr.write(`meshport-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const logger = createLogger(config.logLevel);
  let agent;
  try {
    const source = await createSource(config);
    agent = await startAgent({ ...toAgentOptions(config), logger, source });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, "agent could not start");
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping");
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  await agent.stop();
  return 0;
}
