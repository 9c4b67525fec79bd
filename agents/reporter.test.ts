import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { backoffDelay, classifyStatus, errorCode, Reporter } from "./reporter.ts";
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

describe("Reporter on a 403", () => {
  it("keeps the batch and says when the token is not bound to this broker", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "forbidden:broker_binding", message: "bound to plant-eu", details: { broker: "other", binding: "plant-eu" } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(path.join(os.tmpdir(), "reporter-"));
    const spool = await Spool.open(dir);
    await spool.put(0, randomUUID(), Buffer.from("x"));
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const reporter = new Reporter({ spool, portalUrl: `http://127.0.0.1:${port}`, token: "t", logger, backoffBaseMs: 60_000 });
    const result = await reporter.drain();
    await reporter.stop();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    expect(result.pending).toBe(1);
    const error = lines.find((l) => l.level === 50);
    expect(error?.msg).toMatch(/not bound to this broker/);
  });

  it("reads the error code of a portal error body, and nothing else", () => {
    expect(errorCode(JSON.stringify({ error: { code: "forbidden:broker_binding", message: "m" } }))).toBe("forbidden:broker_binding");
    expect(errorCode("not json")).toBeNull();
    expect(errorCode("{}")).toBeNull();
  });
});
