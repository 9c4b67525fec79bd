import "server-only";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dataDir } from "@/db/config.ts";

/**
 * The secret that signs session cookies: `MESHPORT_AUTH_SECRET` (or `BETTER_AUTH_SECRET`),
 * else one generated on first start into the data folder with owner-only permissions.
 * Several instances behind a load balancer must share it through the environment.
 */
export function authSecret(): string {
  const fromEnv = process.env.MESHPORT_AUTH_SECRET || process.env.BETTER_AUTH_SECRET;
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error("MESHPORT_AUTH_SECRET must be at least 32 characters long");
    return fromEnv;
  }
  const file = path.join(dataDir(), "auth-secret");
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir(), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  try {
    // "wx": never overwrite a secret another process wrote first.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw error;
  }
}
