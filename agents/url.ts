/** Broker URLs as the agent logs and reports them; no dependencies, so every broker kind can use it. */

/** Removes credentials from a broker URL before it is logged or reported. */
export function sanitizeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}
