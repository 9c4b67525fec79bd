import { randomBytes } from "node:crypto";

/** A random, URL-safe identifier with a readable prefix (`usr_…`, `team_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}
