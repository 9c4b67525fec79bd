import "server-only";
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { authSecret } from "@/lib/auth/secret.ts";

const VERSION = "v1";
let cached: { from: string; key: Buffer } | undefined;

/** The key that encrypts webhook secrets: derived (HKDF-SHA256) from the portal secret, for this purpose only. */
function secretKey(): Buffer {
  const portal = authSecret();
  if (cached?.from !== portal) {
    cached = { from: portal, key: Buffer.from(hkdfSync("sha256", portal, "meshport", "webhook-secret-encryption", 32)) };
  }
  return cached.key;
}

/** A new signing secret, shown once to whoever creates the webhook. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("base64url")}`;
}

/** Encrypts a signing secret with AES-256-GCM, bound to its webhook's id (a ciphertext copied to another webhook does not open). */
export function encryptWebhookSecret(webhookId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", secretKey(), iv);
  cipher.setAAD(Buffer.from(webhookId));
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
}

/** Opens a stored signing secret; throws when it was not made with this portal's secret for this webhook. */
export function decryptWebhookSecret(webhookId: string, stored: string): string {
  const [version, iv, tag, ciphertext] = stored.split(".");
  if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error("unknown webhook secret format");
  const decipher = createDecipheriv("aes-256-gcm", secretKey(), Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(webhookId));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
}
