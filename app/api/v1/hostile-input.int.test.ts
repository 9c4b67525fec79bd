import { count } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { application, auditEntry, contractVersion, team } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBroker } from "@/lib/brokers/brokers.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { parsePool, replaceParsePool } from "@/lib/parse-pool/pool.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as catchAll from "./[...path]/route.ts";
import * as userRoute from "./admin/users/[id]/route.ts";
import * as usersRoute from "./admin/users/route.ts";
import * as evaluateRoute from "./applications/[app]/evaluate/route.ts";
import * as applicationRoute from "./applications/[app]/route.ts";
import * as documentRoute from "./applications/[app]/versions/[version]/document/route.ts";
import * as versionRoute from "./applications/[app]/versions/[version]/route.ts";
import * as versionsRoute from "./applications/[app]/versions/route.ts";
import * as applicationsRoute from "./applications/route.ts";
import * as auditRoute from "./audit/route.ts";
import * as bridgeRoute from "./bridges/[id]/route.ts";
import * as bridgesRoute from "./bridges/route.ts";
import * as brokerRoute from "./brokers/[id]/route.ts";
import * as brokersRoute from "./brokers/route.ts";
import * as searchRoute from "./search/route.ts";
import * as memberRoute from "./teams/[slug]/members/[userId]/route.ts";
import * as membersRoute from "./teams/[slug]/members/route.ts";
import * as teamRoute from "./teams/[slug]/route.ts";
import * as teamsRoute from "./teams/route.ts";
import * as validateRoute from "./validate/route.ts";

const BASE = "http://localhost:3000/api/v1";
const DOCUMENT = "asyncapi: 3.0.0\ninfo:\n  title: Orders\n  version: 1.0.0\nchannels:\n  created:\n    address: orders/created\n";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- route handlers differ only in their params
type Handler = (request: Request, context: { params: Promise<any> }) => Response | Promise<Response>;

interface Call {
  handler: Handler;
  method: string;
  path: string;
  params?: Record<string, string>;
  body?: BodyInit;
  contentType?: string;
}

let adminToken = "";

function send(call: Call): Promise<Response> {
  const headers = new Headers({ authorization: `Bearer ${adminToken}` });
  if (call.body !== undefined) headers.set("content-type", call.contentType ?? "application/json");
  const request = new Request(`${BASE}${call.path}`, { method: call.method, headers, body: call.body });
  return Promise.resolve(call.handler(request, { params: Promise.resolve(call.params ?? {}) }));
}

/** Sends each call and returns those not answered with a 4xx in the error shape (or a 2xx, when allowed). */
async function misanswered(calls: Call[], { allowSuccess }: { allowSuccess: boolean }): Promise<string[]> {
  const wrong: string[] = [];
  for (const call of calls) {
    const response = await send(call);
    const label = `${call.method} ${call.path.slice(0, 120)} ${typeof call.body === "string" ? call.body.slice(0, 80) : ""} → ${response.status}`;
    if (response.status >= 500) {
      wrong.push(label);
      continue;
    }
    if (response.status < 400) {
      if (!allowSuccess) wrong.push(label);
      continue;
    }
    const body = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
    if (typeof body?.error?.code !== "string" || typeof body.error.message !== "string") wrong.push(`${label} (not the error shape)`);
  }
  return wrong;
}

/** Numbers no query parameter should choke on. */
const HOSTILE_NUMBERS = ["1e309", "-1", "NaN", "Infinity", "-Infinity", "1.5", "2147483648", "9223372036854775808", "99999999999999999999999", "0x10", "", " ", "abc", "1e3"];

describeEachBackend("hostile input gets a 4xx, never a 500", ({ handle }) => {
  let admin: Principal;
  const noisy = console.error;

  beforeAll(async () => {
    // Unexpected errors are logged before the 500; the assertions below name them.
    console.error = () => undefined;
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    adminToken = (await createToken(admin, { name: "admin-ci", scopes: ["admin"] })).secret;
    await createTeam(admin, { slug: "core", name: "Core" });
    await createApplication(admin, { slug: "orders", name: "Orders", team: "core" });
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU" });
    await parsePool().whenReady();
    const published = await send({ handler: versionsRoute.POST, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body: DOCUMENT, contentType: "application/yaml" });
    expect(published.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    console.error = noisy;
    await parsePool().close();
    replaceParsePool(undefined);
  });

  it("bounds numbers in query strings", async () => {
    const calls: Call[] = [];
    for (const value of HOSTILE_NUMBERS) {
      const v = encodeURIComponent(value);
      calls.push(
        { handler: applicationsRoute.GET, method: "GET", path: `/applications?limit=${v}` },
        { handler: applicationsRoute.GET, method: "GET", path: `/applications?offset=${v}` },
        { handler: auditRoute.GET, method: "GET", path: `/audit?limit=${v}` },
        { handler: auditRoute.GET, method: "GET", path: `/audit?before=${v}` },
        { handler: searchRoute.GET, method: "GET", path: `/search?q=orders&limit=${v}` },
        { handler: searchRoute.GET, method: "GET", path: `/search?q=orders&offset=${v}` },
        { handler: brokerRoute.GET, method: "GET", path: `/brokers/plant-eu?limit=${v}`, params: { id: "plant-eu" } },
        { handler: brokerRoute.GET, method: "GET", path: `/brokers/plant-eu?offset=${v}`, params: { id: "plant-eu" } },
      );
    }
    expect(await misanswered(calls, { allowSuccess: true })).toEqual([]);
  });

  it("bounds strings, repeated parameters and enum values in query strings", async () => {
    const long = "a".repeat(4000);
    const calls: Call[] = [
      { handler: searchRoute.GET, method: "GET", path: `/search?q=${long}` },
      { handler: searchRoute.GET, method: "GET", path: `/search?topic=${long}` },
      { handler: searchRoute.GET, method: "GET", path: `/search?field=${long}` },
      { handler: searchRoute.GET, method: "GET", path: "/search?q=a&q=b&kind=channel&kind=nope" },
      { handler: searchRoute.GET, method: "GET", path: "/search?q=a&kind=__proto__" },
      { handler: searchRoute.GET, method: "GET", path: "/search?topic=%23%2F%2B" },
      ...["the", "!&|():*'\\", "a".repeat(200), "the a an of", "ǅ ß İ", "😀 orders", Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "), "_:*_"].map(
        (q): Call => ({ handler: searchRoute.GET, method: "GET", path: `/search?q=${encodeURIComponent(q)}` }),
      ),
      { handler: searchRoute.GET, method: "GET", path: `/search?topic=${encodeURIComponent("+/".repeat(249) + "#")}` },
      { handler: searchRoute.GET, method: "GET", path: `/search?field=${encodeURIComponent("a.".repeat(99) + "b[]")}` },
      { handler: searchRoute.GET, method: "GET", path: `/search?topic=${"%2B%2F".repeat(1000)}` },
      { handler: applicationsRoute.GET, method: "GET", path: `/applications?team=${long}&tag=${long}&domain=${long}` },
      { handler: applicationsRoute.GET, method: "GET", path: "/applications?team=a&team=b&__proto__=x&constructor=y" },
      { handler: auditRoute.GET, method: "GET", path: `/audit?action=${long}&actorId=${long}&targetType=${long}&targetId=${long}` },
      { handler: auditRoute.GET, method: "GET", path: "/audit?action=__proto__&toString=1" },
      { handler: documentRoute.GET, method: "GET", path: "/applications/orders/versions/1.0.0/document?format=__proto__", params: { app: "orders", version: "1.0.0" } },
      { handler: documentRoute.GET, method: "GET", path: `/applications/orders/versions/1.0.0/document?format=${long}`, params: { app: "orders", version: "1.0.0" } },
      { handler: versionsRoute.POST, method: "POST", path: "/applications/orders/versions?state=nope", params: { app: "orders" }, body: DOCUMENT, contentType: "application/yaml" },
      { handler: versionsRoute.POST, method: "POST", path: `/applications/orders/versions?version=${long}`, params: { app: "orders" }, body: DOCUMENT, contentType: "application/yaml" },
    ];
    expect(await misanswered(calls, { allowSuccess: true })).toEqual([]);
  });

  it("answers every way of searching through the route, at the bounds of its input", async () => {
    type Found = { total: number; hits: Array<{ kind: string; address: string | null; application: { slug: string } }> };
    const search = async (query: string): Promise<Found> => {
      const response = await send({ handler: searchRoute.GET, method: "GET", path: `/search?${query}` });
      expect({ query, status: response.status }).toEqual({ query, status: 200 });
      return (await response.json()) as Found;
    };
    const words = await search("q=orders");
    expect(words.hits.map((h) => h.kind).sort()).toEqual(["application", "channel"]);
    expect((await search("q=orders&kind=channel")).hits.map((h) => h.address)).toEqual(["orders/created"]);
    expect((await search("q=orders&kind=field")).total).toBe(0);
    expect((await search("q=orders&topic=orders%2F%23")).hits.map((h) => h.address)).toEqual(["orders/created"]);
    expect((await search("q=orders&field=orderId")).total).toBe(0);
    expect((await search("field=orderId")).total).toBe(0);
    // The longest text (200 characters); 12 words, the most that are used, the last as a prefix; the last offset.
    const long = `${"zz ".repeat(65)}orders`.slice(-200);
    expect(long).toHaveLength(200);
    expect((await search(`q=${encodeURIComponent(long)}`)).total).toBe(0);
    expect((await search(`q=${encodeURIComponent(`${"orders ".repeat(11)}orde`)}&limit=100`)).total).toBe(words.total);
    expect(await search("q=orders&offset=10000")).toMatchObject({ total: words.total, hits: [] });
  });

  it("answers 404 to a document file named after a prototype key", async () => {
    for (const file of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", ""]) {
      for (const format of ["original", "yaml", "json"]) {
        const response = await send({
          handler: documentRoute.GET,
          method: "GET",
          path: `/applications/orders/versions/1.0.0/document?format=${format}&file=${encodeURIComponent(file)}`,
          params: { app: "orders", version: "1.0.0" },
        });
        expect(response.status, `${file} as ${format}`).toBe(404);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found:file");
      }
    }
  });

  it("bounds path segments", async () => {
    const segments = ["a".repeat(2048), "__proto__", "constructor", "toString", "..", "é", "a b", "%", "1e309", "-1", "9223372036854775808", "latest"];
    const calls: Call[] = [];
    for (const s of segments) {
      calls.push(
        { handler: applicationRoute.GET, method: "GET", path: `/applications/x`, params: { app: s } },
        { handler: applicationRoute.PATCH, method: "PATCH", path: `/applications/x`, params: { app: s }, body: "{}" },
        { handler: versionsRoute.GET, method: "GET", path: `/applications/x/versions`, params: { app: s } },
        { handler: versionsRoute.POST, method: "POST", path: `/applications/x/versions`, params: { app: s }, body: DOCUMENT, contentType: "application/yaml" },
        { handler: evaluateRoute.POST, method: "POST", path: `/applications/x/evaluate`, params: { app: s }, body: DOCUMENT, contentType: "application/yaml" },
        { handler: versionRoute.GET, method: "GET", path: `/applications/orders/versions/x`, params: { app: "orders", version: s } },
        { handler: versionRoute.GET, method: "GET", path: `/applications/x/versions/1.0.0`, params: { app: s, version: "1.0.0" } },
        { handler: versionRoute.PATCH, method: "PATCH", path: `/applications/orders/versions/x`, params: { app: "orders", version: s }, body: '{"state":"deprecated","reason":"x"}' },
        { handler: documentRoute.GET, method: "GET", path: `/applications/orders/versions/x/document`, params: { app: "orders", version: s } },
        { handler: brokerRoute.GET, method: "GET", path: `/brokers/x`, params: { id: s } },
        { handler: bridgeRoute.DELETE, method: "DELETE", path: `/bridges/x`, params: { id: s } },
        { handler: teamRoute.GET, method: "GET", path: `/teams/x`, params: { slug: s } },
        { handler: membersRoute.PUT, method: "PUT", path: `/teams/x/members`, params: { slug: s }, body: '{"email":"ada@example.com","role":"member"}' },
        { handler: memberRoute.DELETE, method: "DELETE", path: `/teams/core/members/x`, params: { slug: "core", userId: s } },
        { handler: memberRoute.DELETE, method: "DELETE", path: `/teams/x/members/y`, params: { slug: s, userId: "y" } },
        { handler: userRoute.GET, method: "GET", path: `/admin/users/x`, params: { id: s } },
        { handler: userRoute.PATCH, method: "PATCH", path: `/admin/users/x`, params: { id: s }, body: '{"role":"viewer"}' },
      );
    }
    // `latest` names a real version; everything else is refused.
    const wrong = (await misanswered(calls, { allowSuccess: true }));
    expect(wrong).toEqual([]);
    const catchAllResponse = await send({ handler: catchAll.GET, method: "GET", path: `/${"x/".repeat(500)}` });
    expect(catchAllResponse.status).toBe(404);
    expect(JSON.stringify(await catchAllResponse.json()).length).toBeLessThan(2000);
  });

  it("refuses JSON bodies of the wrong shape on every write", async () => {
    const bodies = [
      "null",
      "[]",
      '"text"',
      "1e309",
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      `{"name":${"[".repeat(5000)}${"]".repeat(5000)}}`,
      '{"slug":["a","b"],"name":{"x":1},"tags":"a","email":1,"role":"__proto__","state":"toString","compatibilityMode":"constructor"}',
      '{"slug":"a","name":"x","limit":1e309,"tags":[1,2]}',
      `{"tags":${JSON.stringify(Array.from({ length: 10_000 }, (_, i) => `t${i}`))}}`,
      `{"description":"${"x".repeat(500_000)}"}`,
    ];
    const writes: Array<Omit<Call, "body">> = [
      { handler: applicationsRoute.POST, method: "POST", path: "/applications" },
      { handler: applicationRoute.PATCH, method: "PATCH", path: "/applications/orders", params: { app: "orders" } },
      { handler: versionRoute.PATCH, method: "PATCH", path: "/applications/orders/versions/1.0.0", params: { app: "orders", version: "1.0.0" } },
      { handler: bridgesRoute.POST, method: "POST", path: "/bridges" },
      { handler: brokersRoute.POST, method: "POST", path: "/brokers" },
      { handler: teamsRoute.POST, method: "POST", path: "/teams" },
      { handler: membersRoute.PUT, method: "PUT", path: "/teams/core/members", params: { slug: "core" } },
      { handler: usersRoute.POST, method: "POST", path: "/admin/users" },
      { handler: userRoute.PATCH, method: "PATCH", path: `/admin/users/x`, params: { id: "x" } },
    ];
    const before = {
      teams: await handle().db.select({ n: count() }).from(team),
      applications: await handle().db.select({ n: count() }).from(application),
    };
    const calls = writes.flatMap((write) => bodies.map((body) => ({ ...write, body })));
    expect(await misanswered(calls, { allowSuccess: false })).toEqual([]);
    expect(await handle().db.select({ n: count() }).from(team)).toEqual(before.teams);
    expect(await handle().db.select({ n: count() }).from(application)).toEqual(before.applications);
  });

  it("refuses a NUL anywhere in a JSON body or upload with 422, and stores nothing", async () => {
    const audit = await handle().db.select({ n: count() }).from(auditEntry);
    const versions = await handle().db.select({ n: count() }).from(contractVersion);
    const withNul = [
      '{"slug":"nul-team","name":"a\\u0000b"}',
      '{"slug":"nul-team","name":"ok","description":"x","a\\u0000":1}',
      '{"slug":"nul-app","name":"Nul","team":"core","tags":["a\\u0000"]}',
      '{"email":"ada@example.com\\u0000","role":"member"}',
      '{"id":"nul-broker","name":"x\\u0000"}',
      '{"state":"deprecated","reason":"\\u0000"}',
    ];
    const writes: Array<Omit<Call, "body">> = [
      { handler: applicationsRoute.POST, method: "POST", path: "/applications" },
      { handler: applicationRoute.PATCH, method: "PATCH", path: "/applications/orders", params: { app: "orders" } },
      { handler: versionRoute.PATCH, method: "PATCH", path: "/applications/orders/versions/1.0.0", params: { app: "orders", version: "1.0.0" } },
      { handler: brokersRoute.POST, method: "POST", path: "/brokers" },
      { handler: teamsRoute.POST, method: "POST", path: "/teams" },
      { handler: membersRoute.PUT, method: "PUT", path: "/teams/core/members", params: { slug: "core" } },
      { handler: usersRoute.POST, method: "POST", path: "/admin/users" },
    ];
    for (const write of writes) {
      for (const body of withNul) {
        const response = await send({ ...write, body });
        expect(response.status, `${write.method} ${write.path} ${body}`).toBe(422);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_input:nul");
      }
      // A lone surrogate escape is no text either: stored, it would fail in jsonb or turn into U+FFFD.
      for (const body of withNul.map((text) => text.replaceAll("\\u0000", "\\ud800"))) {
        const response = await send({ ...write, body });
        expect(response.status, `${write.method} ${write.path} ${body}`).toBe(422);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_input:encoding");
      }
    }
    const uploads: Array<[string, BodyInit, string]> = [
      ["a NUL in a YAML document", `${DOCUMENT}  x-note: "a\u0000b"\n`, "application/yaml"],
      ["a NUL in an envelope file", JSON.stringify({ files: { "asyncapi.yaml": `${DOCUMENT}\u0000` } }), "application/json"],
      ["a NUL in an envelope file name", JSON.stringify({ files: { "a\u0000.yaml": DOCUMENT } }), "application/json"],
      ["a NUL in the envelope version", JSON.stringify({ files: { "asyncapi.yaml": DOCUMENT }, version: "2.0.0\u0000" }), "application/json"],
    ];
    for (const [label, body, contentType] of uploads) {
      for (const handler of [versionsRoute.POST, evaluateRoute.POST, validateRoute.POST]) {
        const response = await send({ handler, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body, contentType });
        expect(response.status, label).toBe(422);
        expect(((await response.json()) as { error: { code: string } }).error.code, label).toBe("invalid_input:nul");
      }
    }
    // Escapes that decode to NUL only once parsed: publish refuses them with a diagnostic, validate says why not.
    const decoded: Array<[string, string, string]> = [
      ["a JSON escape in a document", JSON.stringify({ asyncapi: "3.0.0", info: { title: "x\u0000", version: "9.0.0" }, channels: {} }), "application/json"],
      ["a YAML escape in a value", DOCUMENT.replace("1.0.0", "9.0.1").replace("title: Orders", 'title: "Orders\\0"'), "application/yaml"],
      ["a YAML escape in a key", DOCUMENT.replace("1.0.0", "9.0.2").replace("created:", '"cre\\x00ated":'), "application/yaml"],
    ];
    for (const [label, body, contentType] of decoded) {
      const published = await send({ handler: versionsRoute.POST, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body, contentType });
      expect(published.status, label).toBe(422);
      const error = ((await published.json()) as { error: { code: string; details: { diagnostics: { code: string }[] } } }).error;
      expect(error.details.diagnostics.map((d) => d.code), label).toContain("nul-character");
      const validated = await send({ handler: validateRoute.POST, method: "POST", path: "/validate", body, contentType });
      expect(await validated.json(), label).toMatchObject({ valid: false, diagnostics: expect.arrayContaining([expect.objectContaining({ code: "nul-character" })]) });
      const evaluated = await send({ handler: evaluateRoute.POST, method: "POST", path: "/applications/orders/evaluate", params: { app: "orders" }, body, contentType });
      expect(evaluated.status, label).toBe(200);
      // The live evaluation agrees with publish: the same diagnostic, and a blocker.
      const { evaluation } = (await evaluated.json()) as { evaluation: { diagnostics: { code: string }[]; blockers: { kind: string }[] } };
      expect(evaluation.diagnostics.map((d) => d.code), label).toContain("nul-character");
      expect(evaluation.blockers.map((b) => b.kind), label).toContain("invalid");
    }
    expect(await handle().db.select({ n: count() }).from(contractVersion)).toEqual(versions);
    expect(await handle().db.select({ n: count() }).from(auditEntry)).toEqual(audit);
  });

  it("treats prototype keys in uploads as names like any other", async () => {
    const withRef = DOCUMENT.replace("1.0.0", "7.0.0").replace("    address: orders/created\n", "    address: orders/created\n    messages:\n      m:\n        $ref: 'constructor#/components/messages/m'\n");
    const bodies = [
      JSON.stringify({ files: { "asyncapi.yaml": DOCUMENT }, root: "constructor" }),
      JSON.stringify({ files: { "asyncapi.yaml": DOCUMENT }, root: "__proto__" }),
      JSON.stringify({ files: { "asyncapi.yaml": DOCUMENT }, root: "toString" }),
      JSON.stringify({ files: { "asyncapi.yaml": withRef } }),
      '{"files":{"__proto__":"x","asyncapi.yaml":"y"}}',
      '{"files":{"constructor":"asyncapi: 3.0.0"}}',
      '{"files":"asyncapi.yaml"}',
      '{"files":[]}',
      '{"files":{"a.yaml":1}}',
    ];
    const calls: Call[] = [];
    for (const body of bodies) {
      for (const handler of [versionsRoute.POST, evaluateRoute.POST, validateRoute.POST]) {
        calls.push({ handler, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body });
      }
    }
    // validate answers 200 with `valid: false`; the others refuse.
    expect(await misanswered(calls, { allowSuccess: true })).toEqual([]);
    for (const body of bodies) {
      const response = await send({ handler: versionsRoute.POST, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body });
      expect(response.status, body).toBeGreaterThanOrEqual(400);
    }
  });

  it("refuses uploads that are not UTF-8 instead of storing replaced text", async () => {
    const versions = await handle().db.select({ n: count() }).from(contractVersion);
    const latin1 = new Uint8Array([...new TextEncoder().encode(DOCUMENT.replace("1.0.0", "3.0.0")), ...new TextEncoder().encode("  x-city: M"), 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e, 0x0a]);
    const envelope = new TextEncoder().encode(JSON.stringify({ files: { "asyncapi.yaml": "PLACEHOLDER" } }));
    const invalidEnvelope = new Uint8Array([...envelope.slice(0, envelope.length - 3), 0xc3, 0x28, ...envelope.slice(envelope.length - 3)]);
    const multipart = (bytes: Uint8Array) => {
      const form = new FormData();
      form.append("files", new Blob([bytes as BlobPart]), "asyncapi.yaml");
      return form;
    };
    for (const handler of [versionsRoute.POST, evaluateRoute.POST, validateRoute.POST]) {
      const raw = await send({ handler, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body: latin1, contentType: "application/yaml" });
      expect(raw.status).toBe(422);
      expect(((await raw.json()) as { error: { code: string } }).error.code).toBe("invalid_input:encoding");
      const json = await send({ handler, method: "POST", path: "/applications/orders/versions", params: { app: "orders" }, body: invalidEnvelope, contentType: "application/json" });
      expect(json.status).toBe(422);
      const request = new Request(`${BASE}/applications/orders/versions`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` }, body: multipart(latin1) });
      const form = await handler(request, { params: Promise.resolve({ app: "orders" }) });
      expect(form.status).toBe(422);
    }
    expect(await handle().db.select({ n: count() }).from(contractVersion)).toEqual(versions);
  });

  it("publishes a multipart upload exactly as sent, byte-order mark aside", async () => {
    const text = DOCUMENT.replace("1.0.0", "1.1.0").replace("Orders", "Orders — café");
    const form = new FormData();
    form.append("files", new Blob([new Uint8Array([0xef, 0xbb, 0xbf]), text]), "asyncapi.yaml");
    const request = new Request(`${BASE}/applications/orders/versions`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` }, body: form });
    const response = await versionsRoute.POST(request, { params: Promise.resolve({ app: "orders" }) });
    expect(response.status).toBe(201);
    const download = await send({ handler: documentRoute.GET, method: "GET", path: "/applications/orders/versions/1.1.0/document", params: { app: "orders", version: "1.1.0" } });
    expect(await download.text()).toBe(text);
  });
});
