/** How the webhook sender paces itself; every knob comes from the environment, with defaults. */
export interface SenderSettings {
  /** Wait between passes when nothing was due (MESHPORT_WEBHOOK_POLL_MS; 0 turns the sender off). */
  pollMs: number;
  /** Attempts before a delivery is marked failed (MESHPORT_WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Wait after the first failed attempt; doubles each time (MESHPORT_WEBHOOK_BACKOFF_MS). */
  backoffMs: number;
  /** Longest wait between attempts (MESHPORT_WEBHOOK_BACKOFF_CAP_MS). */
  backoffCapMs: number;
  /** Time an attempt may take, connection to last byte read (MESHPORT_WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Send to loopback, private and link-local addresses (MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true). */
  allowPrivateNetworks: boolean;
}

const KNOBS = {
  pollMs: { env: "MESHPORT_WEBHOOK_POLL_MS", fallback: 1_000, min: 0, max: 3_600_000 },
  maxAttempts: { env: "MESHPORT_WEBHOOK_MAX_ATTEMPTS", fallback: 12, min: 1, max: 100 },
  backoffMs: { env: "MESHPORT_WEBHOOK_BACKOFF_MS", fallback: 5_000, min: 0, max: 86_400_000 },
  backoffCapMs: { env: "MESHPORT_WEBHOOK_BACKOFF_CAP_MS", fallback: 3_600_000, min: 0, max: 7 * 86_400_000 },
  timeoutMs: { env: "MESHPORT_WEBHOOK_TIMEOUT_MS", fallback: 10_000, min: 100, max: 300_000 },
} as const;

/** The sender's settings from the environment; a malformed value stops the portal at start-up with its name. */
export function senderSettings(env: Readonly<Record<string, string | undefined>> = process.env): SenderSettings {
  const numbers = Object.fromEntries(
    Object.entries(KNOBS).map(([key, knob]) => {
      const raw = env[knob.env]?.trim();
      if (!raw) return [key, knob.fallback];
      const value = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(value >= knob.min && value <= knob.max)) {
        throw new Error(`${knob.env} must be a whole number from ${knob.min} to ${knob.max} (got ${raw.slice(0, 40)})`);
      }
      return [key, value];
    }),
  ) as Record<keyof typeof KNOBS, number>;
  const allow = env.MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS?.trim().toLowerCase();
  if (allow && allow !== "true" && allow !== "false") {
    throw new Error("MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false");
  }
  return { ...numbers, allowPrivateNetworks: allow === "true" };
}

/**
 * The wait before the next attempt after `failedAttempts` failures (1 = the first): exponential from `backoffMs`,
 * capped, with "equal jitter" (half fixed, half random) so many receivers coming back at once are not all hit at
 * the same instant, while the wait still grows with every failure.
 */
export function backoffDelay(failedAttempts: number, backoffMs: number, capMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts, 1) - 1, 40);
  const ceiling = Math.min(capMs, backoffMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
