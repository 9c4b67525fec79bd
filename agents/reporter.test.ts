import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { backoffDelay, classifyStatus, Reporter } from "./reporter.ts";
import { Spool } from "./spool.ts";

describe("classifyStatus", () => {
  it.each([
    [202, "accepted"],
    [200, "accepted"],
    [409, "accepted"],
    [400, "rejected"],
    [413, "rejected"],
    [422, "rejected"],
    [401, "auth"],
    [403, "auth"],
    [404, "retry"],
    [429, "retry"],
    [500, "retry"],
    [503, "retry"],
  ] as const)("%i → %s", (status, disposition) => {
    expect(classifyStatus(status)).toBe(disposition);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with jitter, never zero", () => {
    expect(backoffDelay(1, 500, 60_000, () => 0.999)).toBe(499);
    expect(backoffDelay(4, 500, 60_000, () => 0.999)).toBe(3_996);
    expect(backoffDelay(30, 500, 60_000, () => 0.999)).toBe(59_940);
    expect(backoffDelay(3, 500, 60_000, () => 0)).toBe(250);
  });
});

describe("Reporter", () => {
  it("skips a spooled batch whose file was deleted by hand instead of retrying it forever", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "reporter-"));
    const spool = await Spool.open(dir);
    await spool.put(0, randomUUID(), Buffer.from("x"));
    unlinkSync(path.join(dir, "pending", spool.entries[0]!.name));
    const reporter = new Reporter({ spool, portalUrl: "http://127.0.0.1:1", token: "t", logger: pino({ level: "silent" }) });
    const result = await reporter.drain();
    await reporter.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(result).toMatchObject({ pending: 0, blockedBy: null });
  });
});
