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
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

/** The IPv4 address an IPv6 address carries (mapped `::ffff:a.b.c.d`, compatible, NAT64 `64:ff9b::`), if any. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const match = /^(?:::ffff:|::|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(lower);
  if (!match) return null;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2]!, 16);
  const low = Number.parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** True for loopback, private, link-local, shared, reserved, documentation and multicast addresses (IPv4 or IPv6). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, "ipv4");
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 && isIP(v4) === 4) return PRIVATE.check(v4, "ipv4");
    return PRIVATE.check(address, "ipv6");
  }
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

/**
 * Resolves the URL's host now, at send time, and refuses it when any address it resolves to is private (unless
 * allowed): a name that answers both a public and a private address could otherwise be steered inside.
 */
export async function resolveDestination(
  url: URL,
  allowPrivateNetworks: boolean,
  resolve: (host: string) => Promise<Array<{ address: string; family: number }>> = (host) => lookup(host, { all: true, verbatim: true }),
): Promise<Destination> {
  const host = urlHost(url);
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  if (!allowPrivateNetworks) {
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) throw new Error(`refused: ${host} resolves to a private or loopback address (${blocked.address})`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
