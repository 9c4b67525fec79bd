import { describe, expect, it } from "vitest";
import type { AgentReport } from "../agents/protocol.ts";
import { accountOf, compareSides, sampleProc, type Measure } from "./agent-harness.ts";

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
});
