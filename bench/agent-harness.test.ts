import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentReport } from "../agents/protocol.ts";
import type { FakePortal } from "../agents/testing/fake-portal.ts";
import { accountOf, comparisonLines, compareSides, runAgent, runBare, sampleProc, type Measure } from "./agent-harness.ts";

type Topic = { template: string; messages: number; firstSeen: string; lastSeen: string };
const report = (window: string, part: number, messagesSeen: number, topics: Topic[], drops = { topicCap: 0, templateCap: 0 }) =>
  ({ window: { start: window, end: window }, part: { index: part, count: 2 }, stats: { messagesSeen }, topics, drops }) as unknown as AgentReport;
const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 3, 0, 0, ms)).toISOString();

describe("accountOf", () => {
  it("counts a load's messages once per window, without $-topics, with what the caps dropped", () => {
    const reports = [
      // Part 0 and 1 of one window: the window's total is in each part, its templates split between them.
      report("w1", 0, 1_005, [
        { template: "$SYS/broker/uptime", messages: 5, firstSeen: at(0), lastSeen: at(900) },
        { template: "plant/{p1}/t", messages: 600, firstSeen: at(100), lastSeen: at(800) },
      ]),
      report("w1", 1, 1_005, [{ template: "plant/{p1}/h", messages: 400, firstSeen: at(50), lastSeen: at(700) }], { topicCap: 0, templateCap: 30 }),
      // An empty window after the load, then one with the rest.
      report("w2", 0, 2, [{ template: "$SYS/broker/load", messages: 2, firstSeen: at(950), lastSeen: at(950) }]),
      report("w3", 0, 10, [{ template: "plant/{p1}/t", messages: 10, firstSeen: at(1_000), lastSeen: at(1_200) }], { topicCap: 7, templateCap: 0 }),
    ];
    const a = accountOf(reports);
    expect(a.seen).toBe(1_010);
    expect(a.dropped).toBe(37);
    expect(a.first).toBe(Date.parse(at(50)));
    expect(a.last).toBe(Date.parse(at(1_200)));
    expect(a.windows).toBe(2);
  });
});

describe("sampleProc", () => {
  it("reads this process's CPU, reads and RSS from /proc", () => {
    const s = sampleProc(process.pid);
    expect(s.cpuMs).toBeGreaterThan(0);
    expect(s.syscr).toBeGreaterThan(0);
    expect(s.rchar).toBeGreaterThan(0);
    expect(s.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(s.peakRssBytes).toBeGreaterThanOrEqual(s.rssBytes);
  });
});

describe("compareSides", () => {
  const m = (role: string, received: number, seconds: number, cpuMs: number): Measure => ({
    role,
    received,
    firstAt: 0,
    lastAt: seconds * 1000,
    messagesPerSecond: received / seconds,
    cpuMs,
    peakRssBytes: 80 * 1024 * 1024,
    readyRssBytes: 60 * 1024 * 1024,
    readBytes: 4_000_000,
    readCalls: 1_000,
  });
  it("holds the agent to 1.2 times the bare CPU per message and 0.9 of its throughput, on medians", () => {
    const bare = [m("bare", 1000, 1, 100), m("bare", 1000, 1, 110), m("bare", 1000, 1, 90)];
    const met = compareSides(bare, [m("agent", 1000, 1.1, 120), m("agent", 1000, 1.05, 115), m("agent", 1000, 2, 500)], 1000);
    expect(met.cpuRatio).toBe(1.2);
    expect(met.cpuMet).toBe(true);
    expect(met.throughputMet).toBe(true);
    expect(met.agent.bytesPerRead).toBe(4000);
    const missed = compareSides(bare, [m("agent", 1000, 1.2, 130), m("agent", 999, 1.2, 130)], 1000);
    expect(missed.cpuMet).toBe(false);
    expect(missed.throughputMet).toBe(false);
    expect(missed.lost).toBe(1);
  });

  it("does not count the ratios as met while a run lost messages, and says which", () => {
    const bare = [m("bare", 1000, 1, 100), m("bare", 1000, 1, 100), m("bare", 1000, 1, 100)];
    const c = compareSides(bare, [m("agent", 1000, 1, 100), m("agent", 600, 1, 10), m("agent", 1000, 1, 100)], 1000);
    expect(c.cpuRatio).toBe(1);
    expect(c.throughputRatio).toBe(1);
    expect(c.cpuMet).toBe(false);
    expect(c.throughputMet).toBe(false);
    expect(c.lost).toBe(1);
    expect(c.agentLost).toBe(1);
    expect(c.all.filter((r) => "lost" in r)).toEqual([expect.objectContaining({ role: "agent", received: 600, lost: 400 })]);
    const lines = comparisonLines(c, "bare", "agent", "all");
    expect(lines[2]).toContain("MISSED");
    expect(lines[2]).not.toContain(" met");
    expect(lines[3]).toContain("LOST: 1 run(s)");
  });
});

/** Stand-ins for the bare client and the agent that crash during the run. */
describe("a side that exits before its run is done", () => {
  let dir: string;
  let server: ReturnType<typeof createServer>;
  const portal = { url: "", reports: [] as AgentReport[] } as FakePortal;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "bench-harness-"));
    writeFileSync(
      path.join(dir, "bare.mjs"),
      `process.stdout.write(JSON.stringify({ ready: true }) + "\\n");
setTimeout(() => { process.stderr.write("bare stand-in: connection reset by the broker\\n"); process.exit(3); }, 100);
setInterval(() => {}, 1000);
`,
    );
    // Subscribes, reports one empty window, then crashes.
    writeFileSync(
      path.join(dir, "agent.mjs"),
      `const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
process.stdout.write(JSON.stringify({ msg: "subscribed" }) + "\\n");
const report = { agent: { id: arg("--agent-id") }, window: { start: "w0", end: "w0" }, part: { index: 0, count: 1 }, stats: { messagesSeen: 0 }, topics: [], drops: { topicCap: 0, templateCap: 0 } };
await fetch(arg("--portal"), { method: "POST", body: JSON.stringify(report) });
setTimeout(() => { process.stderr.write("agent stand-in: out of memory\\n"); process.exit(3); }, 100);
setInterval(() => {}, 1000);
`,
    );
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        portal.reports.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as AgentReport);
        res.writeHead(202).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    portal.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    portal.waitFor = async (predicate, timeoutMs = 20_000, what = "condition") => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
  });
  afterAll(async () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails the bare client's run with its exit code and stderr, never a cheap measure", async () => {
    const run = runBare("bare", path.join(dir, "bare.mjs"), ["mqtt://127.0.0.1:1"], 1000, () => new Promise((r) => setTimeout(r, 300)));
    await expect(run).rejects.toThrow(/bare: .*exited before its run was done \(exit code 3\)[^]*connection reset by the broker/);
  }, 30_000);

  it("fails the agent's run with its exit code and stderr, never a cheap measure", async () => {
    const run = runAgent({ role: "agent", program: path.join(dir, "agent.mjs"), args: [], portal, expect: 1000, load: () => new Promise((r) => setTimeout(r, 300)), intervalSeconds: 1 });
    await expect(run).rejects.toThrow(/agent: .*exited before its run was done \(exit code 3\)[^]*out of memory/);
  }, 30_000);
});
