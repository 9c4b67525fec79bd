import { afterEach, beforeAll, expect, it, vi } from "vitest";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { PEER_HEADER } from "@/lib/http/client-address.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { principalFromHeaders, requirePrincipal } from "./authenticate.ts";
import { systemPrincipal } from "./principal.ts";

describeEachBackend("principal of a request", () => {
  let secret: string;
  const addressOf = async (headers: Record<string, string>) => {
    const principal = await principalFromHeaders(new Headers({ authorization: `Bearer ${secret}`, ...headers }));
    return principal?.kind === "token" ? principal.address : "no principal";
  };

  beforeAll(async () => {
    ({ secret } = await createToken(systemPrincipal("test"), { name: "addressed", scopes: ["read"] }));
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("records the client address of each request, through trusted proxies only, as the settings stand", async () => {
    expect(await addressOf({})).toBeNull();
    expect(await addressOf({ [PEER_HEADER]: "198.51.100.7" })).toBe("198.51.100.7");
    expect(await addressOf({ [PEER_HEADER]: "::ffff:198.51.100.8" })).toBe("198.51.100.8");
    // Not a trusted proxy: what it forwards is not believed.
    expect(await addressOf({ [PEER_HEADER]: "10.0.0.1", "x-forwarded-for": "203.0.113.5" })).toBe("10.0.0.1");
    vi.stubEnv("MESHPORT_TRUSTED_PROXIES", "10.0.0.0/8");
    expect(await addressOf({ [PEER_HEADER]: "10.0.0.1", "x-forwarded-for": "203.0.113.5" })).toBe("203.0.113.5");
    expect(await addressOf({ [PEER_HEADER]: "10.0.0.1", "x-forwarded-for": "203.0.113.6" })).toBe("203.0.113.6");
    vi.unstubAllEnvs();
    expect(await addressOf({ [PEER_HEADER]: "10.0.0.1", "x-forwarded-for": "203.0.113.5" })).toBe("10.0.0.1");
    expect(await addressOf({ [PEER_HEADER]: "not an address" })).toBeNull();
  });

  it("keeps answering right past the addresses it remembers", async () => {
    for (let i = 0; i < 1_500; i++) {
      const address = `192.0.2.${i % 250}`;
      expect(await addressOf({ [PEER_HEADER]: address, "x-forwarded-for": `203.0.113.${i % 200}, 198.51.100.${i % 100}` })).toBe(address);
    }
    const long = Array.from({ length: 60 }, (_, i) => `203.0.113.${i}`).join(", ");
    expect(await addressOf({ [PEER_HEADER]: "192.0.2.9", "x-forwarded-for": long })).toBe("192.0.2.9");
  });

  it("refuses a malformed or unknown bearer token without looking for a session", async () => {
    await expect(requirePrincipal(new Headers({ authorization: "Bearer nope" }))).rejects.toMatchObject({ kind: "unauthenticated" });
    await expect(requirePrincipal(new Headers({ authorization: "Basic abc" }))).rejects.toMatchObject({ kind: "unauthenticated" });
  });
});
