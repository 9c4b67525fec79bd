import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool } from "./spool.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "spool-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("Spool", () => {
  it("keeps batches in sequence order across reopen, and the agent id and sequence", async () => {
    const a = await Spool.open(dir);
    const first = await a.reserveSequences(3);
    expect(first).toBe(0);
    for (const seq of [2, 0, 1]) await a.put(seq, randomUUID(), Buffer.from(`b${seq}`));
    const b = await Spool.open(dir);
    expect(b.agentId).toBe(a.agentId);
    expect(b.entries.map((e) => e.sequence)).toEqual([0, 1, 2]);
    expect((await b.read(b.entries[0]!)).toString()).toBe("b0");
    expect(await b.reserveSequences(1)).toBe(3);
  });

  it("deletes acknowledged batches and ignores temp files a crash left", async () => {
    const s = await Spool.open(dir);
    await s.put(0, randomUUID(), Buffer.from("x"));
    writeFileSync(path.join(dir, "pending", ".tmp-crash"), "partial");
    await s.ack(s.entries[0]!);
    const again = await Spool.open(dir);
    expect(again.pendingCount).toBe(0);
    expect(readdirSync(path.join(dir, "pending"))).toEqual([]);
  });

  it("moves a rejected batch aside with its reason", async () => {
    const s = await Spool.open(dir);
    const id = randomUUID();
    await s.put(7, id, Buffer.from("bad"));
    await s.reject(s.entries[0]!, { status: 422, body: "nope" });
    expect(s.pendingCount).toBe(0);
    expect(s.rejectedCount).toBe(1);
    const name = `000000000007-${id}.json.gz`;
    expect(existsSync(path.join(dir, "rejected", name))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, "rejected", `${name}.reason.json`), "utf8"))).toMatchObject({ status: 422, body: "nope" });
  });

  it("evicts the oldest batches beyond its caps and says how many", async () => {
    const s = await Spool.open(dir, { maxFiles: 2, maxBytes: 1_000 });
    expect(await s.put(0, randomUUID(), Buffer.alloc(10))).toBe(0);
    expect(await s.put(1, randomUUID(), Buffer.alloc(10))).toBe(0);
    expect(await s.put(2, randomUUID(), Buffer.alloc(10))).toBe(1);
    expect(s.entries.map((e) => e.sequence)).toEqual([1, 2]);
    expect(await s.put(3, randomUUID(), Buffer.alloc(995))).toBe(2);
    expect(s.entries.map((e) => e.sequence)).toEqual([3]);
    expect(s.pendingBytes).toBe(995);
  });

  it("continues the sequence after the highest pending batch if the state file was lost", async () => {
    const s = await Spool.open(dir);
    await s.put(41, randomUUID(), Buffer.from("x"));
    rmSync(path.join(dir, "state.json"));
    const again = await Spool.open(dir);
    expect(await again.reserveSequences(1)).toBe(42);
  });
});
