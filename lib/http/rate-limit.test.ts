import { describe, expect, it } from "vitest";
import { AttemptLimiter } from "./rate-limit.ts";
import { rateLimited, signInLimits } from "./sign-in-limit.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const rule = { max: 3, windowMs: 60_000 };

describe("AttemptLimiter", () => {
  it("allows max attempts per window, then refuses with the time left, then allows again", () => {
    const time = clock();
    const limiter = new AttemptLimiter(100, time.now);
    for (let i = 0; i < 3; i += 1) expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(true);
    time.advance(15_000);
    expect(limiter.reserve([{ key: "a", rule }])).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.reserve([{ key: "b", rule }]).allowed).toBe(true);
    time.advance(45_000);
    expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(true);
  });

  it("counts an attempt against all its keys, or against none when one is full", () => {
    const limiter = new AttemptLimiter(100, clock().now);
    for (let i = 0; i < 3; i += 1) limiter.reserve([{ key: `address:${i}`, rule }, { key: "account:x", rule }]);
    const refused = limiter.reserve([{ key: "address:fresh", rule }, { key: "account:x", rule }]);
    expect(refused.allowed).toBe(false);
    // The refused attempt did not count against the fresh address.
    for (let i = 0; i < 3; i += 1) expect(limiter.reserve([{ key: "address:fresh", rule }]).allowed).toBe(true);
    expect(limiter.reserve([{ key: "address:fresh", rule }]).allowed).toBe(false);
  });

  it("gives a released attempt back, once", () => {
    const limiter = new AttemptLimiter(100, clock().now);
    for (let i = 0; i < 10; i += 1) {
      const reservation = limiter.reserve([{ key: "a", rule }]);
      expect(reservation.allowed).toBe(true);
      if (reservation.allowed) {
        reservation.release();
        reservation.release();
      }
    }
    for (let i = 0; i < 3; i += 1) expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(true);
    expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(false);
  });

  it("does not let a release from an old window lower a new window's count", () => {
    const time = clock();
    const limiter = new AttemptLimiter(100, time.now);
    const old = limiter.reserve([{ key: "a", rule }]);
    time.advance(60_000);
    for (let i = 0; i < 3; i += 1) limiter.reserve([{ key: "a", rule }]);
    if (old.allowed) old.release();
    expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(false);
  });

  it("holds at most maxKeys keys, dropping expired ones first, then the oldest", () => {
    const time = clock();
    const limiter = new AttemptLimiter(4, time.now);
    limiter.reserve([{ key: "short", rule: { max: 1, windowMs: 1000 } }]);
    for (const key of ["k1", "k2", "k3"]) limiter.reserve([{ key, rule: { max: 1, windowMs: 60_000 } }]);
    time.advance(2000);
    limiter.reserve([{ key: "k4", rule: { max: 1, windowMs: 60_000 } }]);
    expect(limiter.size).toBe(4);
    // k1 was still live; full again, so the oldest (k1) goes.
    limiter.reserve([{ key: "k5", rule: { max: 1, windowMs: 60_000 } }]);
    expect(limiter.size).toBe(4);
    expect(limiter.reserve([{ key: "k1", rule: { max: 1, windowMs: 60_000 } }]).allowed).toBe(true);
    expect(limiter.reserve([{ key: "k5", rule: { max: 1, windowMs: 60_000 } }]).allowed).toBe(false);
    for (let i = 0; i < 1000; i += 1) limiter.reserve([{ key: `flood-${i}`, rule }]);
    expect(limiter.size).toBe(4);
  });
});

describe("signInLimits", () => {
  it("has defaults and reads the environment", () => {
    expect(signInLimits({})).toEqual({ windowSeconds: 900, maxPerAddress: 30, maxPerAccount: 10, maxKeys: 50_000 });
    expect(
      signInLimits({
        MESHPORT_SIGN_IN_WINDOW_SECONDS: "60",
        MESHPORT_SIGN_IN_MAX_PER_ADDRESS: " 5 ",
        MESHPORT_SIGN_IN_MAX_PER_ACCOUNT: "2",
        MESHPORT_SIGN_IN_LIMITER_KEYS: "1000",
      }),
    ).toEqual({ windowSeconds: 60, maxPerAddress: 5, maxPerAccount: 2, maxKeys: 1000 });
  });

  it.each(["0", "-1", "1.5", "ten", "1e3", "99999999999", "86401"])("refuses %j with the variable's name", (value) => {
    expect(() => signInLimits({ MESHPORT_SIGN_IN_WINDOW_SECONDS: value })).toThrow(/MESHPORT_SIGN_IN_WINDOW_SECONDS/);
  });

  it("says how long to wait", () => {
    expect(rateLimited(30)).toMatchObject({ kind: "rate_limited", status: 429, details: { retryAfterSeconds: 30 } });
    expect(rateLimited(30).message).toContain("a minute");
    expect(rateLimited(600).message).toContain("10 minutes");
  });
});

describe("AttemptLimiter.refund", () => {
  it("gives one attempt back per key, never below zero", () => {
    const limiter = new AttemptLimiter(100, clock().now);
    for (let i = 0; i < 3; i += 1) limiter.reserve([{ key: "a", rule }, { key: "b", rule }]);
    limiter.refund([{ key: "a", rule }]);
    expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(true);
    expect(limiter.reserve([{ key: "a", rule }]).allowed).toBe(false);
    expect(limiter.reserve([{ key: "b", rule }]).allowed).toBe(false);
    for (let i = 0; i < 10; i += 1) limiter.refund([{ key: "c", rule }]);
    for (let i = 0; i < 3; i += 1) expect(limiter.reserve([{ key: "c", rule }]).allowed).toBe(true);
    expect(limiter.reserve([{ key: "c", rule }]).allowed).toBe(false);
  });
});
