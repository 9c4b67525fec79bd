/**
 * Which broker of the mesh the far end of a discovered link is. Pure: lib/ingest/reports.ts loads the brokers.
 *
 * The rule, in order (deterministic whatever order the brokers come in):
 *  1. a broker whose URL's `host:port` appears in `remote` (a shovel's destination URI, a route's URL), the port
 *     being the URL's or its scheme's default (mqtt 1883, mqtts 8883, nats 4222, amqp 5672, amqps 5671), not part of
 *     a longer host name or port (`eu.example:5672` is not in `plant.eu.example:5672`, `:1883` not in `:18830`);
 *  2. else a broker whose id, of at least MIN_ID_MATCH_CHARS characters, appears in `remote` as a whole word: not
 *     preceded or followed by a letter or digit (`plant-us` in `bridge-plant-us` or `plant-us.bridge`, not in
 *     `plant-usa`); a shorter id (`eu`, `core`) is too common a word to tell a broker by;
 *  3. among several, the longest match wins, then the smallest broker id.
 * Host names and ids compare without case. The reporting broker itself is never the far end.
 */

/** A broker that may be the far end of a link. */
export interface LinkCandidate {
  id: string;
  url: string;
}

const DEFAULT_PORTS: Record<string, string> = { mqtt: "1883", mqtts: "8883", tcp: "1883", ssl: "8883", ws: "80", wss: "443", nats: "4222", tls: "4222", amqp: "5672", amqps: "5671" };

/** `host:port` of a broker URL, lower-case, or null when it has no host or no port can be told. */
export function hostPort(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase();
  const host = parsed.hostname.toLowerCase();
  if (host === "") return null;
  const port = parsed.port || DEFAULT_PORTS[scheme];
  return port ? `${host}:${port}` : null;
}

/** Shortest broker id rule 2 matches by. */
export const MIN_ID_MATCH_CHARS = 5;

const isWordChar = (c: string | undefined) => c !== undefined && /[a-z0-9]/.test(c);

/** True when `needle` occurs in `text` with no letter or digit right before or after it. */
function containsWord(text: string, needle: string, before: (c: string | undefined) => boolean = isWordChar, after: (c: string | undefined) => boolean = isWordChar): boolean {
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    if (!before(text[at - 1]) && !after(text[at + needle.length])) return true;
  }
  return false;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
// A host name is not the end of a longer one: `eu.example:5672` is not in `plant.eu.example:5672`.
const isHostChar = (c: string | undefined) => c !== undefined && /[a-z0-9.-]/.test(c);

/** The broker of the mesh the link's remote names (see the rule above), or null when none does. */
export function resolveRemote(remote: string, selfId: string, brokers: readonly LinkCandidate[]): string | null {
  const text = remote.toLowerCase();
  if (text === "") return null;
  let best: { id: string; rank: number; length: number } | null = null;
  const consider = (id: string, rank: number, length: number) => {
    if (!best || rank > best.rank || (rank === best.rank && (length > best.length || (length === best.length && id < best.id)))) best = { id, rank, length };
  };
  for (const b of brokers) {
    if (b.id === selfId) continue;
    const address = b.url ? hostPort(b.url) : null;
    // A port is followed by no further digit: `:1883` is not `:18830`.
    if (address && containsWord(text, address, isHostChar, isDigit)) consider(b.id, 2, address.length);
    else if (b.id.length >= MIN_ID_MATCH_CHARS && containsWord(text, b.id.toLowerCase())) consider(b.id, 1, b.id.length);
  }
  return (best as { id: string } | null)?.id ?? null;
}
