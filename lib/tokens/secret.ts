import { createHash, randomBytes } from "node:crypto";

/** Every Meshport token starts with this, so secret scanners can recognise leaked ones. */
export const TOKEN_PREFIX = "mpt_";
const TOKEN_PATTERN = /^mpt_[A-Za-z0-9_-]{43}$/;

/** A new token secret (256 random bits) and what is stored of it. */
export function generateTokenSecret(): { secret: string; hash: string; displayPrefix: string } {
  const secret = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { secret, hash: hashTokenSecret(secret), displayPrefix: secret.slice(0, 12) };
}

/**
 * The stored digest of a secret. A fast hash suffices: the secret has 256 bits of
 * entropy, so there is nothing to brute-force, and lookups stay cheap per request.
 */
export function hashTokenSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** True when the string has the shape of a Meshport token. */
export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}
