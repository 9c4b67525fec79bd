import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createSource, resolveConfig, toAgentOptions, toAmqpOptions, toNatsOptions } from "./cli.ts";

const argv = (...args: string[]) => ["node", "meshport-agent", ...args];

describe("resolveConfig", () => {
  it("merges config file < environment < flags", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "agent-cli-"));
    const file = path.join(dir, "agent.json");
    writeFileSync(file, JSON.stringify({ broker: "mqtt://file:1883", "broker-id": "from-file", portal: "http://portal", token: "file-token", interval: 5, redact: ["password"] }));
    const c = resolveConfig(argv("--config", file, "--broker-id", "plant-eu", "--metrics-port", "9464", "--mqtt-version", "5"), { MESHPORT_AGENT_TOKEN: "env-token" });
    rmSync(dir, { recursive: true, force: true });
    expect(c).toMatchObject({ broker: "mqtt://file:1883", brokerId: "plant-eu", token: "env-token", interval: 5, metricsPort: 9464, mqttVersion: 5, redact: ["password"] });
    expect(toAgentOptions(c)).toMatchObject({ intervalSeconds: 5, mqttVersion: 5, metricsPort: 9464 });
  });

  it("splits comma-separated redaction fields", () => {
    const c = resolveConfig(argv("--broker", "mqtt://h:1", "--broker-id", "b", "--portal", "http://p", "--token", "t", "--redact", "password, serial"), {});
    expect(c.redact).toEqual(["password", "serial"]);
  });

  it("names what is missing or invalid", () => {
    expect(() => resolveConfig(argv("--broker", "http://nope"), {})).toThrow(/--broker: .*broker URL[\s\S]*--broker-id[\s\S]*--portal[\s\S]*--token/);
    expect(() => resolveConfig(argv("--broker", "mqtt://h:1", "--broker-id", "b", "--portal", "http://p", "--token", "t", "--mqtt-version", "6"), {})).toThrow(/mqtt-version/);
  });
});

describe("broker kinds", () => {
  const base = ["--broker-id", "b", "--portal", "http://p", "--token", "t"];

  it("defaults to MQTT and builds no source of its own", async () => {
    const c = resolveConfig(argv("--broker", "mqtt://h:1", ...base), {});
    expect(c.kind).toBe("mqtt");
    expect(await createSource(c)).toBeUndefined();
  });

  it("passes the NATS flags to the NATS source", () => {
    const c = resolveConfig(argv("--kind", "nats", "--broker", "nats://h:4222,nats://h2:4222", "--monitor", "http://h:8222", "--username", "u", "--poll", "2", ...base), { MESHPORT_AGENT_PASSWORD: "pw" });
    expect(toNatsOptions(c)).toMatchObject({ servers: "nats://h:4222,nats://h2:4222", monitorUrl: "http://h:8222", user: "u", pass: "pw", pollSeconds: 2, brokerId: "b" });
  });

  it("passes the RabbitMQ flags to the RabbitMQ source", () => {
    const c = resolveConfig(argv("--kind", "amqp", "--broker", "amqp://h:5672", "--management", "http://h:15672", "--vhost", "shop", "--exchanges", "orders, audit", "--firehose", ...base), {});
    expect(toAmqpOptions(c)).toMatchObject({ url: "amqp://h:5672", managementUrl: "http://h:15672", vhost: "shop", exchanges: ["orders", "audit"], firehose: true, brokerId: "b" });
  });

  it("refuses a URL or a flag of another kind, and RabbitMQ without its management API", () => {
    expect(() => resolveConfig(argv("--kind", "nats", "--broker", "mqtt://h:1", ...base), {})).toThrow(/--broker: a nats broker URL/);
    expect(() => resolveConfig(argv("--kind", "amqp", "--broker", "amqp://h:5672", ...base), {})).toThrow(/--management: the RabbitMQ management API/);
    expect(() => resolveConfig(argv("--broker", "mqtt://h:1", "--monitor", "http://h:8222", ...base), {})).toThrow(/--monitor: only for --kind nats/);
    expect(() => resolveConfig(argv("--kind", "nats", "--broker", "nats://h:4222", "--broker-log", "/var/log/x", ...base), {})).toThrow(/--broker-log: only for --kind mqtt/);
    expect(() => resolveConfig(argv("--kind", "kafka", "--broker", "mqtt://h:1", ...base), {})).toThrow(/--kind/);
    expect(() => resolveConfig(argv("--kind", "amqp", "--broker", "amqp://h:5672", "--management", "file:///etc/passwd", ...base), {})).toThrow(/--management/);
  });
});
