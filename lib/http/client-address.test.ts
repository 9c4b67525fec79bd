import { afterEach, describe, expect, it } from "vitest";
import {
  MAX_FORWARDED_HOPS,
  addressNetwork,
  PEER_HEADER,
  canonicalAddress,
  clientAddress,
  parseTrustedProxies,
  trustedProxies,
} from "./client-address.ts";

function request(peer: string | null, forwardedFor?: string | string[]): Headers {
  const headers = new Headers();
  if (peer !== null) headers.set(PEER_HEADER, peer);
  for (const value of [forwardedFor ?? []].flat()) headers.append("x-forwarded-for", value);
  return headers;
}

describe("canonicalAddress", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7", "ipv4"],
    [" 203.0.113.7 ", "203.0.113.7", "ipv4"],
    ["203.0.113.7:51234", "203.0.113.7", "ipv4"],
    ["::ffff:127.0.0.1", "127.0.0.1", "ipv4"],
    ["::FFFF:127.0.0.1", "127.0.0.1", "ipv4"],
    ["0:0:0:0:0:ffff:7f00:1", "127.0.0.1", "ipv4"],
    ["[::ffff:10.1.2.3]:443", "10.1.2.3", "ipv4"],
    ["2001:DB8:0:0::1", "2001:db8::1", "ipv6"],
    ["[2001:db8::1]", "2001:db8::1", "ipv6"],
    ["[2001:db8::1]:8080", "2001:db8::1", "ipv6"],
    ["fe80::1%eth0", "fe80::1", "ipv6"],
    ["::1", "::1", "ipv6"],
  ])("reads %j as %s", (text, address, family) => {
    expect(canonicalAddress(text)).toEqual({ address, family });
  });

  it.each([
    "",
    "unknown",
    "localhost",
    "203.0.113",
    "203.0.113.256",
    "0203.0.113.7",
    "203.0.113.7:",
    "203.0.113.7:port",
    "203.0.113.7:123456",
    "[203.0.113.7]",
    "[2001:db8::1",
    "[2001:db8::1]x",
    "2001:db8::1:80:x",
    "_gazonk",
    "1.2.3.4/8",
    `${"1".repeat(100)}`,
  ])("refuses %j", (text) => {
    expect(canonicalAddress(text)).toBeNull();
  });
});

describe("parseTrustedProxies", () => {
  it("reads addresses and ranges of both families, IPv4-mapped as IPv4", () => {
    const proxies = parseTrustedProxies(" 10.0.0.0/8, 192.168.1.10 ,, fd00::/8, ::1, ::ffff:172.16.0.0/108, ::ffff:127.0.0.1 ");
    expect(proxies.entries).toEqual(["10.0.0.0/8", "192.168.1.10", "fd00::/8", "::1", "172.16.0.0/12", "127.0.0.1"]);
    const trusted = (text: string) => proxies.has(canonicalAddress(text)!);
    expect(trusted("10.200.3.4")).toBe(true);
    expect(trusted("::ffff:10.200.3.4")).toBe(true);
    expect(trusted("11.0.0.1")).toBe(false);
    expect(trusted("192.168.1.10")).toBe(true);
    expect(trusted("192.168.1.11")).toBe(false);
    expect(trusted("fd12:3456::1")).toBe(true);
    expect(trusted("fe80::1")).toBe(false);
    expect(trusted("::1")).toBe(true);
    expect(trusted("172.31.255.255")).toBe(true);
    expect(trusted("172.32.0.0")).toBe(false);
    expect(trusted("127.0.0.1")).toBe(true);
    expect(trusted("::ffff:127.0.0.1")).toBe(true);
    expect(trusted("127.0.0.2")).toBe(false);
  });

  it("trusts nobody when empty", () => {
    const proxies = parseTrustedProxies("");
    expect(proxies.entries).toEqual([]);
    expect(proxies.has(canonicalAddress("127.0.0.1")!)).toBe(false);
  });

  it.each([
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0.0/8/8",
    "10.0.0.0/ 8",
    "2001:db8::/129",
    "::ffff:10.0.0.0/95",
    "10.0.0.1:80",
    "[::1]",
    "proxy.internal",
    "*",
    "10.0.0.0/08x",
  ])("refuses the entry %j with an error naming it", (entry) => {
    expect(() => parseTrustedProxies(`127.0.0.1, ${entry}`)).toThrow(/MESHPORT_TRUSTED_PROXIES/);
  });

  it("refuses an absurdly long list", () => {
    expect(() => parseTrustedProxies(Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(","))).toThrow(/at most/);
  });
});

describe("clientAddress", () => {
  const proxies = parseTrustedProxies("127.0.0.1, 10.0.0.0/8, fd00::/8");

  it("is unknown without the peer header, whatever the client claims", () => {
    expect(clientAddress(request(null, "203.0.113.7"), proxies)).toBeNull();
    const claims = new Headers({ "x-real-ip": "203.0.113.7", "x-meshport-client-address": "203.0.113.7" });
    expect(clientAddress(claims, proxies)).toBeNull();
  });

  it("is the peer when the peer is not a trusted proxy, and ignores X-Forwarded-For", () => {
    expect(clientAddress(request("198.51.100.9"), proxies)).toBe("198.51.100.9");
    for (const claimed of ["1.1.1.1", "1.1.1.2", "127.0.0.1", "10.0.0.1, 1.1.1.3"]) {
      expect(clientAddress(request("198.51.100.9", claimed), proxies)).toBe("198.51.100.9");
    }
    expect(clientAddress(request("::ffff:198.51.100.9", "1.1.1.1"), proxies)).toBe("198.51.100.9");
  });

  it("trusts nobody's X-Forwarded-For when no proxy is configured", () => {
    const none = parseTrustedProxies("");
    expect(clientAddress(request("127.0.0.1", "203.0.113.7"), none)).toBe("127.0.0.1");
  });

  it("steps from a trusted peer to the right-most forwarded entry", () => {
    expect(clientAddress(request("127.0.0.1", "203.0.113.7"), proxies)).toBe("203.0.113.7");
    expect(clientAddress(request("::ffff:127.0.0.1", "203.0.113.7"), proxies)).toBe("203.0.113.7");
  });

  it("takes the first untrusted hop from the right, never a left-most claim", () => {
    // The client wrote 6.6.6.6 itself; the proxies appended what they saw.
    expect(clientAddress(request("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.1.1"), proxies)).toBe("203.0.113.7");
    expect(clientAddress(request("127.0.0.1", ["6.6.6.6, 203.0.113.7", "10.1.1.1"]), proxies)).toBe("203.0.113.7");
    expect(clientAddress(request("fd00::1", "2001:db8::7, fd00::2"), proxies)).toBe("2001:db8::7");
    expect(clientAddress(request("127.0.0.1", "[2001:db8::7]:4431, 10.0.0.3:80"), proxies)).toBe("2001:db8::7");
  });

  it("is the last trusted hop when the entries run out (a request from the proxy itself)", () => {
    expect(clientAddress(request("127.0.0.1"), proxies)).toBe("127.0.0.1");
    expect(clientAddress(request("127.0.0.1", "10.0.0.2"), proxies)).toBe("10.0.0.2");
    expect(clientAddress(request("127.0.0.1", " , ,"), proxies)).toBe("127.0.0.1");
  });

  it("is unknown when a trusted hop forwards something that is not an address", () => {
    expect(clientAddress(request("127.0.0.1", "unknown"), proxies)).toBeNull();
    expect(clientAddress(request("127.0.0.1", "203.0.113.7, _hidden"), proxies)).toBeNull();
    expect(clientAddress(request("not an address", "203.0.113.7"), proxies)).toBeNull();
    expect(clientAddress(request("", "203.0.113.7"), proxies)).toBeNull();
  });

  it("stops at an untrusted hop before reaching garbage further left", () => {
    expect(clientAddress(request("127.0.0.1", "garbage, 203.0.113.7"), proxies)).toBe("203.0.113.7");
  });

  it("ignores any number of entries a client prepends", () => {
    const forged = Array.from({ length: 2000 }, (_, i) => `1.2.${i >> 8}.${i & 255}`).join(", ");
    expect(clientAddress(request("127.0.0.1", `${forged}, 203.0.113.7`), proxies)).toBe("203.0.113.7");
  });

  it("does not believe an endless chain of trusted hops", () => {
    const hops = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(", ");
    expect(clientAddress(request("127.0.0.1", `203.0.113.7, ${hops(MAX_FORWARDED_HOPS - 1)}`), proxies)).toBe("203.0.113.7");
    expect(clientAddress(request("127.0.0.1", `203.0.113.7, ${hops(MAX_FORWARDED_HOPS)}`), proxies)).toBeNull();
  });
});

describe("trustedProxies", () => {
  const saved = process.env.MESHPORT_TRUSTED_PROXIES;
  afterEach(() => {
    if (saved === undefined) delete process.env.MESHPORT_TRUSTED_PROXIES;
    else process.env.MESHPORT_TRUSTED_PROXIES = saved;
  });

  it("follows MESHPORT_TRUSTED_PROXIES", () => {
    delete process.env.MESHPORT_TRUSTED_PROXIES;
    expect(clientAddress(request("127.0.0.1", "203.0.113.7"))).toBe("127.0.0.1");
    process.env.MESHPORT_TRUSTED_PROXIES = "127.0.0.0/8";
    expect(trustedProxies().entries).toEqual(["127.0.0.0/8"]);
    expect(clientAddress(request("127.0.0.1", "203.0.113.7"))).toBe("203.0.113.7");
    process.env.MESHPORT_TRUSTED_PROXIES = "127.0.0.1, bogus";
    expect(() => clientAddress(request("127.0.0.1", "203.0.113.7"))).toThrow(/bogus/);
  });
});

describe("addressNetwork", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::99", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::", "0:0:0:0::/64"],
    ["::1.2.3.4", "0:0:0:0::/64"],
    ["64:ff9b::102:304", "64:ff9b:0:0::/64"],
    ["fe80::1:2:3:4", "fe80:0:0:0::/64"],
  ])("counts %s as %s", (address, network) => {
    expect(addressNetwork(address)).toBe(network);
  });

  it("puts addresses of one /64 together and other /64s apart", () => {
    const networkOf = (text: string) => addressNetwork(canonicalAddress(text)!.address);
    expect(networkOf("2001:DB8:1:2:aaaa::1")).toBe(networkOf("[2001:db8:1:2:bbbb:cccc:dddd:eeee]:443"));
    expect(networkOf("2001:db8:1:2::1")).not.toBe(networkOf("2001:db8:1:3::1"));
  });
});
