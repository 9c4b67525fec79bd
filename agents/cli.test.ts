import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig, toAgentOptions } from "./cli.ts";

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
