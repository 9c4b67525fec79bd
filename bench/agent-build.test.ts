import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIsCurrent, contentDigests, replaceDir, runsBuild } from "../bin/build-current.mjs";

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

  it("is current right after the build, so bin/meshport-agent.mjs runs it rather than the sources", () => {
    const entry = pathToFileURL(path.join(out, "meshport-agent.mjs"));
    expect(buildIsCurrent(out, entry)).toBe(true);
    expect(runsBuild(undefined, () => buildIsCurrent(out, entry))).toBe(true);
    // tsconfig.json is judged by content: its digest is recorded, and the build left no staging folder behind.
    expect(manifest()).toHaveProperty(["digests", "tsconfig.json"], contentDigests()["tsconfig.json"]);
    const base = path.basename(out);
    expect(readdirSync(path.dirname(out)).filter((f) => f.startsWith(`${base}.`))).toEqual([]);
  });

  it("keeps the young generation from growing, unless the user sized it", () => {
    // Objects that survive make V8 grow the young generation; the agent's heap setting keeps it at its start size.
    // The size is sampled while objects pile up: V8 may shrink the space again after a full collection.
    const probe = [
      `await import(${JSON.stringify(pathToFileURL(path.join(out, "meshport-agent.mjs")).href)});`,
      `const v8 = await import("node:v8");`,
      `const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;`,
      `let peak = 0;`,
      `const keep = []; for (let i = 0; i < 600000; i++) { keep.push({ i, s: "x" + i }); if (i % 5000 === 0) peak = Math.max(peak, newSpace()); }`,
      `console.log(peak);`,
    ].join("\n");
    const newSpace = (...flags: string[]) => {
      const run = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", probe], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      return Number(run.stdout.trim());
    };
    const mb = 1024 * 1024;
    expect(newSpace()).toBeLessThanOrEqual(4 * mb);
    expect(newSpace("--max-semi-space-size=16")).toBeGreaterThan(8 * mb);
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

  it("judges tsconfig.json by what the bundles read of it, not by its mtime or its include list", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "meshport-build-root-"));
    try {
      const config = { compilerOptions: { strict: true, paths: { "@/*": ["./*"] } }, include: ["**/*.ts", ".next/types/**/*.ts"] };
      writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify(config));
      writeFileSync(path.join(root, "source.ts"), "export {};\n");
      const hourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(path.join(root, "source.ts"), hourAgo, hourAgo);
      mkdirSync(path.join(root, "dist", "x"), { recursive: true });
      writeFileSync(path.join(root, "dist", "x", "entry.mjs"), "");
      // Built half an hour ago: everything written since is newer than the build.
      const manifest = { builtAt: Date.now() - 1_800_000, inputs: ["source.ts", "tsconfig.json"], digests: contentDigests(root) };
      writeFileSync(path.join(root, "dist", "x", "inputs.json"), JSON.stringify(manifest));
      const entry = pathToFileURL(path.join(root, "dist", "x", "entry.mjs"));
      expect(buildIsCurrent("dist/x", entry, root)).toBe(true);
      // As `next build` into another folder rewrites it: another include, another layout, a new mtime.
      writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify({ ...config, include: [...config.include, ".next-e2e/types/**/*.ts"] }, null, 2));
      expect(buildIsCurrent("dist/x", entry, root)).toBe(true);
      // A change of what esbuild reads makes the build stale.
      writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, paths: { "@/*": ["./src/*"] } } }));
      expect(buildIsCurrent("dist/x", entry, root)).toBe(false);
      // Other inputs still go by mtime.
      writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify(config));
      writeFileSync(path.join(root, "source.ts"), "export const changed = 1;\n");
      expect(buildIsCurrent("dist/x", entry, root)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("is overridden by the environment's choice", () => {
    expect(runsBuild("source", () => true)).toBe(false);
    expect(runsBuild("built", () => false)).toBe(true);
    expect(runsBuild(undefined, () => true)).toBe(true);
    expect(runsBuild(undefined, () => false)).toBe(false);
  });
});

describe("replaceDir", () => {
  it("puts a finished build in place of the old one, which it removes, and works without an old one", () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "meshport-replace-"));
    try {
      const out = path.join(parent, "agent");
      const stage = (text: string) => {
        const dir = path.join(parent, `agent.building-${text}`);
        mkdirSync(path.join(dir, "chunks"), { recursive: true });
        writeFileSync(path.join(dir, "chunks", "c.mjs"), text);
        return dir;
      };
      replaceDir(stage("one"), out);
      expect(readFileSync(path.join(out, "chunks", "c.mjs"), "utf8")).toBe("one");
      replaceDir(stage("two"), out);
      expect(readFileSync(path.join(out, "chunks", "c.mjs"), "utf8")).toBe("two");
      expect(readdirSync(parent)).toEqual(["agent"]);
      expect(existsSync(path.join(parent, "agent.building-two"))).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
