import { describe, expect, it } from "vitest";
import { backoffDelay, senderSettings } from "./policy.ts";

describe("webhook retry policy", () => {
  it("doubles the wait per failure, with half of it jittered, up to the cap", () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1_000, 60_000, low))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1_000, 60_000, high))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffDelay(30, 1_000, 60_000, high)).toBe(60_000);
    expect(backoffDelay(30, 1_000, 60_000, low)).toBe(30_000);
    expect(backoffDelay(10_000, 1_000, 60_000, high)).toBe(60_000);
    for (let n = 1; n < 20; n++) {
      const d = backoffDelay(n, 1_000, 60_000);
      expect(d).toBeGreaterThanOrEqual(Math.min(60_000, 1_000 * 2 ** (n - 1)) / 2);
      expect(d).toBeLessThanOrEqual(60_000);
    }
    expect(backoffDelay(3, 0, 0)).toBe(0);
  });

  it("reads its knobs from the environment, with defaults, and names a malformed one", () => {
    expect(senderSettings({})).toEqual({ pollMs: 1_000, maxAttempts: 12, backoffMs: 5_000, backoffCapMs: 3_600_000, timeoutMs: 10_000, allowPrivateNetworks: false });
    expect(
      senderSettings({
        MESHPORT_WEBHOOK_POLL_MS: "250",
        MESHPORT_WEBHOOK_MAX_ATTEMPTS: "3",
        MESHPORT_WEBHOOK_BACKOFF_MS: "10",
        MESHPORT_WEBHOOK_BACKOFF_CAP_MS: "100",
        MESHPORT_WEBHOOK_TIMEOUT_MS: "2000",
        MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      }),
    ).toEqual({ pollMs: 250, maxAttempts: 3, backoffMs: 10, backoffCapMs: 100, timeoutMs: 2_000, allowPrivateNetworks: true });
    expect(() => senderSettings({ MESHPORT_WEBHOOK_MAX_ATTEMPTS: "0" })).toThrow(/MESHPORT_WEBHOOK_MAX_ATTEMPTS/);
    expect(() => senderSettings({ MESHPORT_WEBHOOK_TIMEOUT_MS: "10s" })).toThrow(/MESHPORT_WEBHOOK_TIMEOUT_MS/);
    expect(() => senderSettings({ MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "yes" })).toThrow(/MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
  });
});
