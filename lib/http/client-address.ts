import { BlockList, SocketAddress, isIP } from "node:net";

/**
 * Who is on the other end of a request. The portal's server (bin/meshport-portal.mjs) writes the
 * socket peer into PEER_HEADER on every request, replacing whatever a client sent under that name.
 * X-Forwarded-For is believed only hop by hop from a configured trusted proxy
 * (`MESHPORT_TRUSTED_PROXIES`); without the peer header the address is unknown, never taken from a
 * header a client could have written.
 */

/** Header holding the socket peer address, set by the portal's server. */
export const PEER_HEADER = "x-meshport-peer";

/**
 * Header holding the client address the portal computed, for better-auth's own IP logic. The
 * portal's server deletes any incoming copy, and the auth route and hooks overwrite it.
 */
export const CLIENT_ADDRESS_HEADER = "x-meshport-client-address";

/** A longer chain of trusted proxies than this is not believed. */
export const MAX_FORWARDED_HOPS = 32;

/** Most entries `MESHPORT_TRUSTED_PROXIES` may list. */
export const MAX_TRUSTED_PROXY_ENTRIES = 256;

// Long enough for any IPv6 text form with brackets, zone and port; anything longer is not an address.
const MAX_ADDRESS_TEXT = 80;
const PORT_SUFFIX = /^:\d{1,5}$/;
const DIGITS = /^\d{1,3}$/;

/** An address in one canonical text form, with its family. */
export interface CanonicalAddress {
  address: string;
  family: "ipv4" | "ipv6";
}

/**
 * The canonical form of an address as peers and proxies write it: IPv6 compressed and lowercase
 * (zone dropped), IPv4-mapped IPv6 as plain IPv4, `[v6]:port` and `v4:port` without the port.
 * Null when the text is not an IP address.
 */
export function canonicalAddress(text: string): CanonicalAddress | null {
  let value = text.trim();
  if (value.length === 0 || value.length > MAX_ADDRESS_TEXT) return null;
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0) return null;
    const rest = value.slice(end + 1);
    if (rest !== "" && !PORT_SUFFIX.test(rest)) return null;
    value = value.slice(1, end);
    if (isIP(value) !== 6) return null;
  } else {
    const colon = value.indexOf(":");
    // Exactly one colon: IPv4 with a port (IPv6 has at least two).
    if (colon >= 0 && colon === value.lastIndexOf(":")) {
      if (!PORT_SUFFIX.test(value.slice(colon))) return null;
      value = value.slice(0, colon);
      if (isIP(value) !== 4) return null;
    }
  }
  const family = isIP(value);
  if (family === 4) return { address: value, family: "ipv4" };
  if (family !== 6) return null;
  const address = new SocketAddress({ address: value, family: "ipv6" }).address;
  if (address.startsWith("::ffff:")) {
    const mapped = address.slice("::ffff:".length);
    if (isIP(mapped) === 4) return { address: mapped, family: "ipv4" };
  }
  return { address, family: "ipv6" };
}

/** The proxies whose X-Forwarded-For entries are believed. */
export interface TrustedProxies {
  has(address: CanonicalAddress): boolean;
  /** The entries as configured, canonical (for logs and tests). */
  readonly entries: readonly string[];
}

/**
 * Reads a comma-separated list of IP addresses and CIDR ranges, IPv4 and IPv6 (IPv4-mapped IPv6
 * counts as IPv4). Throws an Error naming the first entry it cannot read: a mistyped proxy list
 * must stop the portal, not silently trust nobody (or everybody).
 */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  const entries: string[] = [];
  const raw = text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  if (raw.length > MAX_TRUSTED_PROXY_ENTRIES) {
    throw new Error(`MESHPORT_TRUSTED_PROXIES lists ${raw.length} entries; at most ${MAX_TRUSTED_PROXY_ENTRIES} are read.`);
  }
  for (const entry of raw) {
    const slash = entry.indexOf("/");
    const baseText = slash < 0 ? entry : entry.slice(0, slash);
    // A bare address only: ports and brackets belong to peers, not to a proxy list.
    const base = isIP(baseText) === 0 ? null : canonicalAddress(baseText);
    if (!base) throw new Error(`MESHPORT_TRUSTED_PROXIES: "${entry.slice(0, 100)}" is not an IP address or CIDR range.`);
    if (slash < 0) {
      list.addAddress(base.address, base.family);
      entries.push(base.address);
      continue;
    }
    const prefixText = entry.slice(slash + 1);
    if (!DIGITS.test(prefixText)) {
      throw new Error(`MESHPORT_TRUSTED_PROXIES: "${entry.slice(0, 100)}" has no valid prefix length.`);
    }
    let prefix = Number(prefixText);
    const writtenAsV6 = isIP(baseText) === 6;
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8: the mapped prefix covers the 96 fixed bits first.
    if (writtenAsV6 && base.family === "ipv4") {
      if (prefix < 96 || prefix > 128) {
        throw new Error(`MESHPORT_TRUSTED_PROXIES: "${entry.slice(0, 100)}" needs a prefix of 96 to 128 for an IPv4-mapped range.`);
      }
      prefix -= 96;
    }
    if (prefix > (base.family === "ipv4" ? 32 : 128)) {
      throw new Error(`MESHPORT_TRUSTED_PROXIES: "${entry.slice(0, 100)}" has a prefix longer than its address.`);
    }
    list.addSubnet(base.address, prefix, base.family);
    entries.push(`${base.address}/${prefix}`);
  }
  return {
    has: (address) => list.check(address.address, address.family),
    entries,
  };
}

let cachedProxies: { text: string; proxies: TrustedProxies } | undefined;

/** The trusted proxies of `MESHPORT_TRUSTED_PROXIES` (none when unset), parsed once per value. */
export function trustedProxies(): TrustedProxies {
  const text = process.env.MESHPORT_TRUSTED_PROXIES ?? "";
  if (cachedProxies?.text !== text) cachedProxies = { text, proxies: parseTrustedProxies(text) };
  return cachedProxies.proxies;
}

/**
 * The client's address: start at the socket peer; while the current hop is a trusted proxy, step
 * to the right-most X-Forwarded-For entry not yet used; the first untrusted hop is the client (or
 * the last trusted one, when the entries run out). Null when the peer is unknown, or a trusted
 * proxy forwarded something that is not an address, or the chain of trusted hops is too long.
 */
export function clientAddress(headers: Headers, proxies: TrustedProxies = trustedProxies()): string | null {
  const peer = headers.get(PEER_HEADER);
  if (peer === null) return null;
  let hop = canonicalAddress(peer);
  if (!hop) return null;
  if (!proxies.has(hop)) return hop.address;
  // Right to left, one entry at a time: the work is bounded by the trusted hops, not the header's length.
  const forwarded = headers.get("x-forwarded-for") ?? "";
  let end = forwarded.length;
  for (let hops = 0; end > 0; ) {
    const start = forwarded.lastIndexOf(",", end - 1);
    const entry = forwarded.slice(start + 1, end).trim();
    end = start < 0 ? 0 : start;
    if (entry === "") continue;
    if (++hops > MAX_FORWARDED_HOPS) return null;
    hop = canonicalAddress(entry);
    if (!hop) return null;
    if (!proxies.has(hop)) return hop.address;
  }
  return hop.address;
}

/**
 * The network a client address stands for when counting attempts: an IPv4 address itself, an
 * IPv6 address its /64 (one subscriber or host usually holds a whole /64, and rotates within it
 * at will). Takes a canonical address as clientAddress returns it; anything else is returned as is.
 */
export function addressNetwork(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail counts as two). */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (isIP(tail) === 4) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)));
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  return [...left, ...Array<number>(missing).fill(0), ...right];
}
