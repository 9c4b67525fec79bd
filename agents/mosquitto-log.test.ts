import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogFollower, parseLogFileConnection, parseLogFileLine, parseSysLog, stripTimestamp } from "./mosquitto-log.ts";

// Lines captured from mosquitto 2.0.11 (log_dest topic + log_dest file, log_type all).
describe("parseSysLog", () => {
  it("parses subscribe and unsubscribe lines", () => {
    expect(parseSysLog("$SYS/broker/log/M/subscribe", "1795844384: cons1 1 plant/+/temp")).toEqual({ type: "subscribe", clientId: "cons1", qos: 1, filter: "plant/+/temp" });
    expect(parseSysLog("$SYS/broker/log/M/subscribe", "1795844393: cons2 0 b c/d")).toEqual({ type: "subscribe", clientId: "cons2", qos: 0, filter: "b c/d" });
    expect(parseSysLog("$SYS/broker/log/M/unsubscribe", "1795844393: cons2 a/#")).toEqual({ type: "unsubscribe", clientId: "cons2", filter: "a/#" });
    expect(parseSysLog("$SYS/broker/log/M/subscribe", "1795844393: garbage")).toBe("malformed");
  });

  it("parses connection notices", () => {
    expect(parseSysLog("$SYS/broker/log/N", "1795844384: New client connected from 127.0.0.1:39892 as cons1 (p2, c1, k60).")).toEqual({
      type: "connect",
      clientId: "cons1",
      clean: true,
      protocolLevel: 2,
      username: null,
      address: "127.0.0.1:39892",
    });
    expect(parseSysLog("$SYS/broker/log/N", "1795844384: New client connected from 127.0.0.1:1 as s (p5, c0, k60, u'alice').")).toMatchObject({ clean: false, username: "alice" });
    expect(parseSysLog("$SYS/broker/log/N", "1795844385: Client prod1 disconnected.")).toEqual({ type: "disconnect", clientId: "prod1" });
    expect(parseSysLog("$SYS/broker/log/N", "1795844385: Client x closed its connection.")).toEqual({ type: "disconnect", clientId: "x" });
    expect(parseSysLog("$SYS/broker/log/N", "1795844385: Socket error on client y, disconnecting.")).toEqual({ type: "disconnect", clientId: "y" });
    expect(parseSysLog("$SYS/broker/log/N", "1795844384: New connection from 127.0.0.1:39892 on port 18831.")).toBeNull();
    expect(parseSysLog("$SYS/broker/log/I", "1795844384: anything")).toBeNull();
  });

  it("tells a bridge of another broker from a client, on $SYS and in the log file", () => {
    const line = "1795844386: New bridge connected from 127.0.0.1:40112 as plant-eu.hub (p2, c1, k60).";
    const bridge = { type: "connect", clientId: "plant-eu.hub", clean: true, protocolLevel: 2, username: null, address: "127.0.0.1:40112", bridge: true };
    expect(parseSysLog("$SYS/broker/log/N", line)).toEqual(bridge);
    expect(parseLogFileConnection(line)).toEqual(bridge);
    expect(parseLogFileConnection("1795844386: Client plant-eu.hub disconnected.")).toEqual({ type: "disconnect", clientId: "plant-eu.hub" });
    expect(parseSysLog("$SYS/broker/log/N", "1795844384: New client connected from 127.0.0.1:1 as c (p2, c1, k60).")).not.toHaveProperty("bridge");
    expect(parseLogFileConnection("1795844385: Received PUBLISH from p (d0, q0, r0, m0, 'a', ... (1 bytes))")).toBeNull();
  });

  it("strips epoch and ISO timestamps only", () => {
    expect(stripTimestamp("1795844384: a b")).toBe("a b");
    expect(stripTimestamp("2026-11-28T05:40:00Z: a b")).toBe("a b");
    expect(stripTimestamp("2026-11-28 05:40:00: a b")).toBe("a b");
    expect(parseSysLog("$SYS/broker/log/M/subscribe", "2026-11-28 05:40:00: cons1 1 plant/+/temp")).toMatchObject({ clientId: "cons1", filter: "plant/+/temp" });
    expect(stripTimestamp("a b")).toBe("a b");
  });
});

describe("parseLogFileLine", () => {
  it("parses Received PUBLISH lines, quotes in topics included", () => {
    expect(parseLogFileLine("1795844385: Received PUBLISH from prod1 (d0, q1, r0, m1, 'plant/a1/temp', ... (7 bytes))")).toEqual({
      type: "publish",
      clientId: "prod1",
      qos: 1,
      retain: false,
      topic: "plant/a1/temp",
      bytes: 7,
    });
    expect(parseLogFileLine("1795844385: Received PUBLISH from prod3 (d0, q0, r1, m0, 'it's here', ... (1 bytes))")).toMatchObject({ topic: "it's here", retain: true });
  });
  it("ignores other lines", () => {
    expect(parseLogFileLine("1795844385: Sending PUBLISH to cons1 (d0, q1, r0, m1, 'plant/a1/temp', ... (7 bytes))")).toBeNull();
    expect(parseLogFileLine("1795844384: cons1 1 plant/+/temp")).toBeNull();
  });
});

describe("LogFollower", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("follows appends, truncation and rotation without losing or repeating lines", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "follower-"));
    const file = path.join(dir, "m.log");
    writeFileSync(file, "old line\n");
    const lines: string[] = [];
    const f = new LogFollower(file, (l) => lines.push(l));
    await f.poll();
    expect(lines).toEqual([]);
    appendFileSync(file, "a\nb");
    await f.poll();
    expect(lines).toEqual(["a"]);
    appendFileSync(file, "c\n");
    await f.poll();
    expect(lines).toEqual(["a", "bc"]);
    // copytruncate
    truncateSync(file, 0);
    await f.poll();
    appendFileSync(file, "d\n");
    await f.poll();
    expect(lines).toEqual(["a", "bc", "d"]);
    // rename + new file; a line written to the old file just before is still read
    appendFileSync(file, "e\n");
    renameSync(file, `${file}.1`);
    writeFileSync(file, "f\n");
    await f.poll();
    expect(lines).toEqual(["a", "bc", "d", "e", "f"]);
    expect(f.reopens).toBe(2);
    await f.stop();
  });

  it("waits for a file that does not exist yet", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "follower-"));
    const file = path.join(dir, "later.log");
    const lines: string[] = [];
    const f = new LogFollower(file, (l) => lines.push(l), { fromStart: true });
    await f.poll();
    writeFileSync(file, "x\n");
    await f.poll();
    expect(lines).toEqual(["x"]);
    await f.stop();
  });
});

describe("LogFollower start", () => {
  it("reads a file created after following began from its start", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "follower-"));
    const file = path.join(dir, "late.log");
    const lines: string[] = [];
    const f = new LogFollower(file, (l) => lines.push(l));
    await f.poll();
    writeFileSync(file, "first\n");
    await f.poll();
    expect(lines).toEqual(["first"]);
    await f.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
