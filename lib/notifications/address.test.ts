import { describe, expect, it } from "vitest";
import { isPrivateAddress, namesPrivateHost, resolveDestination, webhookUrlProblem } from "./address.ts";

describe("webhook URLs and destinations", () => {
  it("accepts http(s) URLs with a host and no credentials, up to 2000 characters", () => {
    expect(webhookUrlProblem("https://hooks.example.com/meshport?x=1")).toBeNull();
    expect(webhookUrlProblem("http://hooks.example.com:8080/in")).toBeNull();
    expect(webhookUrlProblem("ftp://example.com/")).toMatch(/http/);
    expect(webhookUrlProblem("javascript:alert(1)")).toMatch(/http/);
    expect(webhookUrlProblem("file:///etc/passwd")).toMatch(/http/);
    expect(webhookUrlProblem("https://user:secret@example.com/")).toMatch(/credentials/);
    expect(webhookUrlProblem("https://user@example.com/")).toMatch(/credentials/);
    expect(webhookUrlProblem("not a url")).toMatch(/full URL/);
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(1981)}`)).toMatch(/2000/);
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(1980)}`)).toBeNull();
  });

  it("knows loopback, private, link-local and reserved addresses, IPv4 inside IPv6 included", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe"]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["8.8.8.8", "172.32.0.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
    expect(isPrivateAddress("not-an-address")).toBe(true);
  });

  it("refuses every reserved IPv4 range, edges included", () => {
    const ranges: Array<[string, string, string?]> = [
      ["0/8", "0.255.255.255"],
      ["10/8", "10.0.0.0", "10.255.255.255"],
      ["100.64/10", "100.64.0.0", "100.127.255.255"],
      ["127/8", "127.255.255.254"],
      ["169.254/16", "169.254.0.1", "169.254.255.255"],
      ["172.16/12", "172.16.0.0", "172.31.255.255"],
      ["192.0.0/24", "192.0.0.8", "192.0.0.255"],
      ["192.168/16", "192.168.0.0", "192.168.255.255"],
      ["198.18/15", "198.18.0.0", "198.19.255.255"],
      ["224/4", "224.0.0.0", "239.255.255.255"],
      ["240/4", "240.0.0.1", "255.255.255.254"],
      ["broadcast", "255.255.255.255"],
    ];
    for (const [range, ...addresses] of ranges) {
      for (const a of addresses) expect(isPrivateAddress(a!), `${range} ${a}`).toBe(true);
    }
    for (const a of ["1.0.0.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255", "172.15.255.255", "192.0.1.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it("refuses reserved IPv6 ranges and IPv6 forms of private IPv4 addresses", () => {
    const refused: Record<string, string[]> = {
      unspecified: ["::", "0:0:0:0:0:0:0:0"],
      loopback: ["::1", "0:0:0:0:0:0:0:1"],
      "unique local fc00::/7": ["fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
      "link-local fe80::/10": ["fe80::1", "febf:ffff::1", "fe80::1%eth0"],
      "multicast ff00::/8": ["ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
      "discard 100::/64": ["100::", "100::ffff:ffff:ffff:ffff"],
      "local-use NAT64 64:ff9b:1::/48": ["64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::808:808"],
      "mapped ::ffff:0:0/96": ["::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:a9fe:a9fe", "::ffff:0:0"],
      "translated ::ffff:0:0:0/96": ["::ffff:0:127.0.0.1", "::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe", "::ffff:0:c0a8:101", "0:0:0:0:ffff:0:ac10:1"],
      "NAT64 64:ff9b::/96": ["64:ff9b::a9fe:a9fe", "64:ff9b::127.0.0.1", "64:ff9b::a00:1"],
      "6to4 2002::/16 of a private IPv4": ["2002:7f00:1::", "2002:a00:1::1", "2002:c0a8:101:1::1", "2002:a9fe:a9fe::", "2002::1", "2002:e000::1"],
      documentation: ["2001:db8::1", "3fff::1"],
      teredo: ["2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    };
    for (const [range, addresses] of Object.entries(refused)) {
      for (const a of addresses) expect(isPrivateAddress(a), `${range} ${a}`).toBe(true);
    }
    for (const a of ["2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "::ffff:0:808:808", "64:ff9b::808:808", "2002:808:808::1", "101::1", "100:0:0:1::", "64:ff9b:2::1", "fbff::1", "fe7f::1"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it("spots private hosts named in the URL itself", () => {
    expect(namesPrivateHost(new URL("http://localhost:3000/"))).toBe(true);
    expect(namesPrivateHost(new URL("http://api.localhost/"))).toBe(true);
    expect(namesPrivateHost(new URL("http://127.0.0.1/"))).toBe(true);
    expect(namesPrivateHost(new URL("http://[::1]/"))).toBe(true);
    expect(namesPrivateHost(new URL("http://[::ffff:127.0.0.1]/"))).toBe(true);
    expect(namesPrivateHost(new URL("http://2130706433/"))).toBe(true);
    expect(namesPrivateHost(new URL("https://hooks.example.com/"))).toBe(false);
  });

  it("resolves at send time and refuses a name with any private address unless private networks are allowed", async () => {
    const resolver = (answers: Record<string, string[]>) => async (host: string) => (answers[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    const dns = resolver({ "public.example": ["93.184.216.34"], "mixed.example": ["93.184.216.34", "10.0.0.5"], "inside.example": ["192.168.0.9"] });
    await expect(resolveDestination(new URL("https://public.example/"), false, dns)).resolves.toEqual({ address: "93.184.216.34", family: 4 });
    await expect(resolveDestination(new URL("https://mixed.example/"), false, dns)).rejects.toThrow(/private/);
    await expect(resolveDestination(new URL("https://inside.example/"), false, dns)).rejects.toThrow(/private/);
    await expect(resolveDestination(new URL("https://inside.example/"), true, dns)).resolves.toEqual({ address: "192.168.0.9", family: 4 });
    await expect(resolveDestination(new URL("http://[::1]:8080/"), false, dns)).rejects.toThrow(/private/);
    await expect(resolveDestination(new URL("http://127.0.0.1:8080/"), true, dns)).resolves.toEqual({ address: "127.0.0.1", family: 4 });
    await expect(resolveDestination(new URL("https://nowhere.example/"), true, dns)).rejects.toThrow(/resolve/);
  });

  it("gives up on a name server that never answers once the time is up", async () => {
    const silent = () => new Promise<never>(() => {});
    await expect(resolveDestination(new URL("https://hooks.example.com/"), false, silent, 20)).rejects.toThrow("name resolution timed out");
    // An address literal needs no lookup, so no time is spent on one.
    await expect(resolveDestination(new URL("https://93.184.216.34/"), false, silent, 0)).resolves.toEqual({ address: "93.184.216.34", family: 4 });
    const dns = async () => [{ address: "93.184.216.34", family: 4 }];
    await expect(resolveDestination(new URL("https://hooks.example.com/"), false, dns, 1_000)).resolves.toEqual({ address: "93.184.216.34", family: 4 });
  });
});
