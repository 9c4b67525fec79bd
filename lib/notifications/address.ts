import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL = 2000;

/**
 * Why a webhook URL is refused, or null when it is fine: http(s) only, at most MAX_WEBHOOK_URL characters,
 * a host, no user name or password in it (the secret signs; credentials in a URL end up in logs).
 */
export function webhookUrlProblem(text: string): string | null {
  if (text.length > MAX_WEBHOOK_URL) return `Use at most ${MAX_WEBHOOK_URL} characters.`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "Enter a full URL, such as https://hooks.example.com/meshport.";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "Use an http or https URL.";
  if (url.username || url.password) return "Leave credentials out of the URL; receivers check the signature instead.";
  if (!url.hostname) return "The URL needs a host.";
  return null;
}

// Addresses a portal must not be turned against: its own host, the private networks around it, cloud metadata.
const PRIVATE_V4 = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  // Multicast, and 240/4 reserved up to the broadcast 255.255.255.255.
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const;

const PRIVATE_V6 = [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  // Teredo carries an obscured IPv4 address; nothing a webhook needs.
  ["2001::", 32],
  ["2001:2::", 48],
  ["2001:db8::", 32],
  ["3fff::", 20],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const;

/**
 * IPv6 forms that carry an IPv4 address in their last 32 bits (mapped, translated, NAT64, compatible), or right
 * after 2002: (6to4): such an address is as private as the IPv4 address inside it.
 */
const V4_CARRIERS: ReadonlyArray<{ at: (high: string, low: string) => string; bits: number }> = [
  { at: (h, l) => `::ffff:${h}:${l}`, bits: 96 },
  { at: (h, l) => `::ffff:0:${h}:${l}`, bits: 96 },
  { at: (h, l) => `64:ff9b::${h}:${l}`, bits: 96 },
  { at: (h, l) => `::${h}:${l}`, bits: 96 },
  { at: (h, l) => `2002:${h}:${l}::`, bits: 16 },
];

const PRIVATE = new BlockList();
for (const [net, prefix] of PRIVATE_V4) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
  const value = net.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const high = Math.floor(value / 65536).toString(16);
  const low = (value % 65536).toString(16);
  for (const carrier of V4_CARRIERS) PRIVATE.addSubnet(carrier.at(high, low), carrier.bits + prefix, "ipv6");
}
for (const [net, prefix] of PRIVATE_V6) PRIVATE.addSubnet(net, prefix, "ipv6");

/** True for loopback, private, link-local, shared, reserved, documentation and multicast addresses (IPv4 or IPv6). */
export function isPrivateAddress(address: string): boolean {
  // A zone (fe80::1%eth0) only scopes link-local and multicast addresses, and the block list would not match it.
  if (address.includes("%")) return true;
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, "ipv4");
  if (family === 6) return PRIVATE.check(address, "ipv6");
  return true;
}

/** The host of a URL as a resolver or `isIP` wants it (IPv6 without brackets). */
export function urlHost(url: URL): string {
  return url.hostname.startsWith("[") && url.hostname.endsWith("]") ? url.hostname.slice(1, -1) : url.hostname;
}

/** True when the URL names a private destination by itself (an address literal or localhost), before any lookup. */
export function namesPrivateHost(url: URL): boolean {
  const host = urlHost(url).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  return isIP(host) !== 0 && isPrivateAddress(host);
}

/** A resolved destination the sender connects to (the address is pinned, so a second lookup cannot change it). */
export interface Destination {
  address: string;
  family: 4 | 6;
}

/** How a host's addresses are looked up (the system resolver unless a test gives another). */
export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** The resolver's answer, or a failure once `timeoutMs` has passed: a name server that never answers must not hold an attempt. */
function resolveWithin(resolve: Resolver, host: string, timeoutMs: number | undefined): ReturnType<Resolver> {
  if (timeoutMs === undefined) return resolve(host);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("name resolution timed out")), Math.max(0, timeoutMs));
  });
  return Promise.race([resolve(host), expired]).finally(() => clearTimeout(timer));
}

/**
 * Resolves the URL's host now, at send time, and refuses it when any address it resolves to is private (unless
 * allowed): a name that answers both a public and a private address could otherwise be steered inside. The lookup
 * fails with "name resolution timed out" after `timeoutMs`, when given.
 */
export async function resolveDestination(url: URL, allowPrivateNetworks: boolean, resolve: Resolver = systemResolver, timeoutMs?: number): Promise<Destination> {
  const host = urlHost(url);
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await resolveWithin(resolve, host, timeoutMs);
  if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  if (!allowPrivateNetworks) {
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) throw new Error(`refused: ${host} resolves to a private or loopback address (${blocked.address})`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
