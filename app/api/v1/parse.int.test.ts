import { count } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { contractVersion } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { parsePool, ParsePool, replaceParsePool } from "@/lib/parse-pool/pool.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { generateContract } from "@/registry/testing/generate.ts";
import * as versionsRoute from "./applications/[app]/versions/route.ts";
import * as pingRoute from "./ping/route.ts";
import * as validateRoute from "./validate/route.ts";

const BASE = "http://localhost:3000/api/v1";

/** 9 anchors, each a sequence of 9 aliases of the previous one: 9^9 leaves from about 450 bytes. */
function aliasBomb(): string {
  const lines = [`a0: &a0 [${Array(9).fill("lol").join(",")}]`];
  for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`);
  return `asyncapi: 3.0.0\ninfo: {title: Bomb, version: 1.0.0}\nchannels: {}\ncomponents:\n  schemas:\n${lines.map((l) => `    ${l}\n`).join("")}`;
}

const SMALL = "asyncapi: 3.0.0\ninfo:\n  title: Small\n  version: 1.0.0\nchannels:\n  c:\n    address: plant/c\n";
// About 1.6 MB: far more work than the 0.1 s budget below, and long enough for pings to come and go meanwhile.
const LARGE = generateContract({ channels: 600 });

function post(handler: (request: Request, context: never) => Promise<Response>, path: string, body: string, token: string, params: Record<string, string> = {}) {
  return handler(
    new Request(`${BASE}${path}`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" } }),
    { params: Promise.resolve(params) } as never,
  );
}

/** Calls ping every 25 ms until `work` settles: how many answers came meanwhile. */
async function pingWhile<T>(work: Promise<T>): Promise<{ result: T; pings: number }> {
  let done = false;
  let pings = 0;
  const pinging = (async () => {
    while (!done) {
      const response = await new Promise<Response>((resolve) => setImmediate(() => resolve(pingRoute.GET())));
      expect(await response.json()).toMatchObject({ ok: true });
      pings++;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  try {
    const result = await work;
    return { result, pings };
  } finally {
    done = true;
    await pinging;
  }
}

describeEachBackend("parsing uploads never stalls the API", ({ handle }) => {
  let readToken: string;
  let writeToken: string;

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    const admin: Principal = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    await createApplication(admin, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" });
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    writeToken = (await createToken(admin, { name: "ci", scopes: ["contracts:write"], teamSlug: "plant-ops" })).secret;
    // Workers load the engine once; uploads are timed from then on.
    await parsePool().whenReady();
  }, 120_000);

  it("validates a small document in a worker", async () => {
    const response = await post(validateRoute.POST, "/validate", SMALL, readToken);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true, title: "Small" });
  });

  it("refuses an alias bomb fast with 422 and the alias-bomb diagnostic, on validate and on publish", async () => {
    const bomb = aliasBomb();
    expect(bomb.length).toBeLessThan(600);
    const validated = await post(validateRoute.POST, "/validate", bomb, readToken);
    expect(validated.status).toBe(422);
    const body = (await validated.json()) as { error: { code: string; message: string; details: { diagnostics: { code: string }[] } } };
    expect(body.error.code).toBe("invalid_input:contract");
    expect(body.error.message).toContain("alias bomb");
    expect(body.error.details.diagnostics.map((d) => d.code)).toEqual(["alias-bomb"]);

    const published = await post(versionsRoute.POST, "/applications/line-sensors/versions", bomb, writeToken, { app: "line-sensors" });
    expect(published.status).toBe(422);
    expect(((await published.json()) as { error: { details: { diagnostics: { code: string }[] } } }).error.details.diagnostics[0]?.code).toBe("alias-bomb");
    expect((await handle().db.select({ n: count() }).from(contractVersion))[0]!.n).toBe(0);
  });

  it("answers ping while a slow parse is in flight", async () => {
    const { result: response, pings } = await pingWhile(post(validateRoute.POST, "/validate", LARGE, readToken));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true });
    // Answers while the parse ran: the event loop was free (timings are for the benchmarks, not for tests).
    expect(pings).toBeGreaterThan(2);
  });

  it("refuses a document over the time budget with 422, still answering ping", async () => {
    const strict = new ParsePool({ size: 1, timeoutMs: 100 });
    const previous = replaceParsePool(strict);
    try {
      await strict.whenReady();
      const { result: response, pings } = await pingWhile(post(validateRoute.POST, "/validate", LARGE, readToken));
      expect(response.status).toBe(422);
      const body = (await response.json()) as { error: { message: string; details: { diagnostics: { code: string }[] } } };
      expect(body.error.message).toContain("took longer than 0.1 s");
      expect(body.error.details.diagnostics.map((d) => d.code)).toEqual(["parse-timeout"]);
      expect(pings).toBeGreaterThan(1);
    } finally {
      replaceParsePool(previous);
      await strict.close();
    }
  }, 60_000);

  afterAll(async () => {
    await parsePool().close();
    replaceParsePool(undefined);
  });
});
