import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIsCurrent, runsBuild } from "../bin/build-current.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");

/** The agent built into a scratch folder (never dist/agent, which a benchmark may be running). */
describe("the agent as built JavaScript", () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(path.join(os.tmpdir(), "meshport-agent-build-"));
    const built = spawnSync(process.execPath, ["scripts/build-agent.mjs"], { cwd: ROOT, env: { ...process.env, MESHPORT_AGENT_OUT: out }, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const manifest = () =>
    JSON.parse(readFileSync(path.join(out, "inputs.json"), "utf8")) as { builtAt: number; inputs: string[]; chunks: Record<string, string>; packages: Record<string, string[]> };

  it("keeps each broker client library in its own source's lazy chunk", () => {
    const { chunks, packages } = manifest();
    const holding = (pkg: string) => Object.keys(packages).filter((file) => packages[file]!.includes(pkg));
    expect(holding("mqtt")).toEqual([chunks["agents/mqtt-source.ts"]]);
    expect(holding("nats")).toEqual([chunks["agents/nats-source.ts"]]);
    expect(holding("amqplib")).toEqual([chunks["agents/amqp-source.ts"]]);
    // The entry starts without any of them, and without a TypeScript loader.
    const entry = packages["meshport-agent.mjs"]!;
    for (const pkg of ["mqtt", "nats", "amqplib", "tsx", "aedes"]) expect(entry).not.toContain(pkg);
  });

  it("lists the agent's sources, the lockfile and the build script as its inputs", () => {
    const { inputs } = manifest();
    expect(inputs).toEqual(expect.arrayContaining(["agents/cli.ts", "agents/agent.ts", "agents/mqtt-source.ts", "package-lock.json", "scripts/build-agent.mjs"]));
    expect(inputs.some((f) => f.includes("node_modules"))).toBe(false);
  });

  it("runs as a program: help, and a clear error on a bad configuration", () => {
    const help = spawnSync(process.execPath, [path.join(out, "meshport-agent.mjs"), "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: meshport-agent");
    const bad = spawnSync(process.execPath, [path.join(out, "meshport-agent.mjs"), "--kind", "nats", "--broker", "mqtt://x:1", "--broker-id", "b", "--portal", "http://127.0.0.1:9", "--token", "t"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--broker: a nats broker URL");
  });

  it("exports main without running it when imported", async () => {
    const mod = (await import(pathToFileURL(path.join(out, "meshport-agent.mjs")).href)) as { main: unknown };
    expect(typeof mod.main).toBe("function");
  });
});

describe("buildIsCurrent", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "meshport-build-current-"));
    writeFileSync(path.join(dir, "entry.mjs"), "");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const entry = () => pathToFileURL(path.join(dir, "entry.mjs"));
  const write = (manifest: unknown) => writeFileSync(path.join(dir, "inputs.json"), JSON.stringify(manifest));

  it("holds while every input is older than the build", () => {
    write({ builtAt: Date.now() + 60_000, inputs: ["package.json", "tsconfig.json"] });
    expect(buildIsCurrent(dir, entry())).toBe(true);
  });

  it("fails once an input changed after the build, went away, or the entry is missing", () => {
    write({ builtAt: 1, inputs: ["package.json"] });
    expect(buildIsCurrent(dir, entry())).toBe(false);
    write({ builtAt: Date.now() + 60_000, inputs: ["package.json", "no/such/file.ts"] });
    expect(buildIsCurrent(dir, entry())).toBe(false);
    write({ builtAt: Date.now() + 60_000, inputs: ["package.json"] });
    expect(buildIsCurrent(dir, pathToFileURL(path.join(dir, "missing.mjs")))).toBe(false);
    write({ builtAt: Date.now() + 60_000, inputs: [] });
    expect(buildIsCurrent(dir, entry())).toBe(false);
  });

  it("is overridden by the environment's choice", () => {
    expect(runsBuild("source", () => true)).toBe(false);
    expect(runsBuild("built", () => false)).toBe(true);
    expect(runsBuild(undefined, () => true)).toBe(true);
    expect(runsBuild(undefined, () => false)).toBe(false);
  });
});
