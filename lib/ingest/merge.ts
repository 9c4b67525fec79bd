import type { KnownClient } from "@/db/schema.ts";

/** Most producers or consumers remembered per topic; the least recently seen go first. */
export const MAX_KNOWN_CLIENTS = 200;

/**
 * Merges the clients of a new report into those remembered: a client seen again gets
 * the new time (and its message count added); clients not in this report are kept,
 * so a consumer that was briefly disconnected is not forgotten.
 */
export function mergeClients(
  known: readonly KnownClient[],
  seen: ReadonlyArray<{ clientId: string; filter?: string; messages?: number }>,
  at: string,
  limit = MAX_KNOWN_CLIENTS,
): KnownClient[] {
  const key = (c: { clientId: string; filter?: string }) => `${c.clientId}\u0000${c.filter ?? ""}`;
  const merged = new Map<string, KnownClient>();
  for (const client of known) merged.set(key(client), { ...client });
  for (const client of seen) {
    const previous = merged.get(key(client));
    const messages =
      client.messages === undefined ? previous?.messages : (previous?.messages ?? 0) + client.messages;
    merged.set(key(client), {
      clientId: client.clientId,
      ...(client.filter !== undefined ? { filter: client.filter } : {}),
      ...(messages !== undefined ? { messages } : {}),
      lastSeen: previous && previous.lastSeen > at ? previous.lastSeen : at,
    });
  }
  return [...merged.values()]
    .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : a.clientId.localeCompare(b.clientId)))
    .slice(0, limit);
}
