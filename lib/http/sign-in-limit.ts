import { MeshportError } from "@/lib/errors.ts";
import { addressNetwork } from "./client-address.ts";
import { AttemptLimiter, type LimitKey, type Reservation } from "./rate-limit.ts";

/**
 * The one limit on password checks: sign-in through the portal's form and through
 * `/api/auth/sign-in/email`, and the current password on the account page. Attempts are counted
 * per client address (IPv6 per /64) and per account email, so neither rotating addresses against
 * one account nor rotating accounts from one address gets far. A success gives its attempt back.
 * Held in process memory: with several portal instances each counts on its own.
 */

/** The limits, from the environment. */
export interface SignInLimits {
  windowSeconds: number;
  maxPerAddress: number;
  maxPerAccount: number;
  maxKeys: number;
}

const DEFAULTS: SignInLimits = { windowSeconds: 900, maxPerAddress: 30, maxPerAccount: 10, maxKeys: 50_000 };

const ENV: Record<keyof SignInLimits, { name: string; max: number }> = {
  windowSeconds: { name: "MESHPORT_SIGN_IN_WINDOW_SECONDS", max: 86_400 },
  maxPerAddress: { name: "MESHPORT_SIGN_IN_MAX_PER_ADDRESS", max: 1_000_000 },
  maxPerAccount: { name: "MESHPORT_SIGN_IN_MAX_PER_ACCOUNT", max: 1_000_000 },
  maxKeys: { name: "MESHPORT_SIGN_IN_LIMITER_KEYS", max: 10_000_000 },
};

const POSITIVE_INTEGER = /^[1-9]\d{0,9}$/;

/** Reads the limits; a value that is not a positive integer in range stops the portal with its name. */
export function signInLimits(env: Record<string, string | undefined> = process.env): SignInLimits {
  const limits = { ...DEFAULTS };
  for (const field of Object.keys(ENV) as Array<keyof SignInLimits>) {
    const { name, max } = ENV[field];
    const text = env[name]?.trim();
    if (!text) continue;
    if (!POSITIVE_INTEGER.test(text) || Number(text) > max) {
      throw new Error(`${name} must be a whole number from 1 to ${max}; it is "${text.slice(0, 40)}".`);
    }
    limits[field] = Number(text);
  }
  return limits;
}

/** Longest email an account can have (users.ts bounds it the same); longer text is cut for the key. */
const MAX_EMAIL_KEY = 254;

/** The account key of an attempted email: trimmed, lowercase, bounded. */
export function accountKey(email: string): string {
  return email.trim().toLowerCase().slice(0, MAX_EMAIL_KEY);
}

interface LimiterState {
  limits: SignInLimits;
  limiter: AttemptLimiter;
}

// On globalThis: route handlers and server actions may load this module separately, and must share one count.
const globalForLimiter = globalThis as typeof globalThis & { __meshportSignInLimiter?: LimiterState };

function state(): LimiterState {
  if (!globalForLimiter.__meshportSignInLimiter) {
    const limits = signInLimits();
    globalForLimiter.__meshportSignInLimiter = { limits, limiter: new AttemptLimiter(limits.maxKeys) };
  }
  return globalForLimiter.__meshportSignInLimiter;
}

/** Forgets every count and re-reads the limits (tests). */
export function resetSignInLimiter(): void {
  globalForLimiter.__meshportSignInLimiter = undefined;
}

function keysOf(limits: SignInLimits, address: string | null, email: string | null): LimitKey[] {
  const windowMs = limits.windowSeconds * 1000;
  // An IPv6 client counts per /64: it can rotate addresses within its network at will.
  const network = address === null ? "unknown" : addressNetwork(address);
  const keys: LimitKey[] = [{ key: `address:${network}`, rule: { max: limits.maxPerAddress, windowMs } }];
  if (email !== null && email.trim() !== "") {
    keys.push({ key: `account:${accountKey(email)}`, rule: { max: limits.maxPerAccount, windowMs } });
  }
  return keys;
}

/**
 * Counts one password check for the client address (null: unknown, and all such share one count)
 * and the account email (null when none was given). Refused: `rate_limited` with the seconds to wait.
 */
export function reservePasswordCheck(address: string | null, email: string | null): Reservation & { allowed: true } {
  const { limits, limiter } = state();
  const reservation = limiter.reserve(keysOf(limits, address, email));
  if (!reservation.allowed) throw rateLimited(reservation.retryAfterSeconds);
  return reservation;
}

/** Gives back one counted check of these keys, after it succeeded. */
export function refundPasswordCheck(address: string | null, email: string | null): void {
  const { limits, limiter } = state();
  limiter.refund(keysOf(limits, address, email));
}

/** The error of a refused attempt; `details.retryAfterSeconds` feeds the API's `retry-after` header. */
export function rateLimited(retryAfterSeconds: number): MeshportError {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return new MeshportError(
    "rate_limited",
    `Too many sign-in attempts. Try again in ${minutes === 1 ? "a minute" : `${minutes} minutes`}.`,
    { details: { retryAfterSeconds } },
  );
}
