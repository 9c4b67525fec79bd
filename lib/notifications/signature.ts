import { createHmac, timingSafeEqual } from "node:crypto";

/** The prefix of the signature header's value: `sha256=<hex>`. */
const SCHEME = "sha256=";

/** The signature of one delivery: HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret, as the header carries it. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return SCHEME + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** How a receiver checks a delivery. */
export interface VerifyOptions {
  /** How far the timestamp may be from now, either way: older deliveries are refused as replays. */
  toleranceSeconds: number;
  /** Now, in unix seconds (tests). */
  nowSeconds?: number;
}

/**
 * True when `header` (`X-Meshport-Signature`) signs `body` with `secret` for `timestamp` (`X-Meshport-Timestamp`,
 * unix seconds) and the timestamp is within the tolerance. Compares in constant time. Pure: for receivers and tests.
 */
export function verifySignature(
  secret: string,
  timestamp: string | number,
  body: string,
  header: string | null | undefined,
  { toleranceSeconds, nowSeconds = Math.floor(Date.now() / 1000) }: VerifyOptions,
): boolean {
  if (!secret || typeof header !== "string" || !header.startsWith(SCHEME)) return false;
  const ts = typeof timestamp === "number" ? timestamp : /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isSafeInteger(ts)) return false;
  if (!(toleranceSeconds >= 0) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const given = header.slice(SCHEME.length);
  if (!/^[0-9a-f]{64}$/i.test(given)) return false;
  const expected = Buffer.from(signatureHeader(secret, ts, body).slice(SCHEME.length), "hex");
  return timingSafeEqual(expected, Buffer.from(given, "hex"));
}
