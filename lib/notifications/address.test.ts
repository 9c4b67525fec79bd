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
});
