/**
 * Every route, fuzzed: the routes come from the app/api/v1 folders, the Confluent-compatible schema registry's
 * routes (one catch-all handler, listed here) and the pages under app/(portal) and app/(auth); each gets the bad-input corpus (testdata/, corpus.ts) and fast-check's hostile
 * requests (methods, headers, bodies, params, query strings) with an admin token, a read token,
 * an agent token, a session cookie, garbage and nothing. No answer may be a 5xx; an API route's
 * 4xx carries `{ error: { code, message } }` (the registry's Confluent's `{ error_code, message }`); and /api/v1/ping keeps answering within 2 s meanwhile.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { documentCases, jsonBodyCases, pathSegments, queryValues, reportCases, baseReport, type BodyCase } from "./corpus.ts";
import {
  api,
  bootstrapAccounts,
  createAgentToken,
  createApplication,
  createPortal,
  describeEachBackend,
  freshBackend,
  logsOnFailure,
  removeBackend,
  ROOT,
  signIn,
  stopAllPortals,
  stopPostgresServer,
  type Backend,
  type Portal,
} from "./harness.ts";

/** fast-check's seed, fixed: a run repeats the one before it. */
const SEED = 20_261_201;
/** Generated requests per API route and method, and per page. */
const RUNS_PER_API_ROUTE = 12;
const RUNS_PER_PAGE = 6;
/** Longest a fuzz request may go unanswered; past it the request counts as a failure. */
const ANSWER_TIMEOUT_MS = 30_000;
/** The liveness bound of one ping. */
const PING_BOUND_MS = 2_000;

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
type Method = (typeof METHODS)[number];

/** A route as the folder structure declares it. */
interface Route {
  kind: "api" | "page" | "registry";
  /** `/api/v1/applications/[app]/versions` */
  template: string;
  segments: Array<{ literal: string } | { param: string; catchAll: boolean }>;
  methods: Method[];
  /** Query keys the handler reads (from its source), beside the generic ones. */
  queryKeys: string[];
}

function walk(dir: string, found: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, found);
    else found.push(full);
  }
  return found;
}

function routeFrom(kind: Route["kind"], file: string, base: string, prefix: string): Route {
  const relative = path.relative(base, path.dirname(file));
  const parts = relative === "" ? [] : relative.split(path.sep).filter((p) => !/^\(.*\)$/.test(p));
  const segments = [
    ...prefix.split("/").filter(Boolean).map((literal) => ({ literal })),
    ...parts.map((p) => {
      const match = /^\[(\.\.\.)?(.+)\]$/.exec(p);
      return match ? { param: match[2]!, catchAll: !!match[1] } : { literal: p };
    }),
  ];
  const source = readFileSync(file, "utf8");
  const methods =
    kind === "page"
      ? (["GET"] as Method[])
      : METHODS.filter((m) => new RegExp(`export\\s+(const|async\\s+function|function)\\s+${m}\\b|export\\s*\\{[^}]*\\bas\\s+${m}\\b`).test(source));
  const queryKeys = [...source.matchAll(/(?:searchParams|query|params)\.get\("([\w.-]+)"\)/g)].map((m) => m[1]!);
  const template = "/" + segments.map((s) => ("literal" in s ? s.literal : s.catchAll ? `[...${s.param}]` : `[${s.param}]`)).join("/");
  return { kind, template, segments, methods, queryKeys };
}

/** Confluent's REST API as the registry serves it under /api/schema-registry, with the query keys it reads. */
const REGISTRY_ROUTES: Array<[string, Method[], string[]]> = [
  ["", ["GET"], []],
  ["subjects", ["GET"], ["deleted", "subjectPrefix"]],
  ["subjects/[subject]", ["POST", "DELETE"], ["deleted", "normalize", "permanent"]],
  ["subjects/[subject]/versions", ["GET", "POST"], ["deleted", "normalize"]],
  ["subjects/[subject]/versions/[version]", ["GET", "DELETE"], ["deleted", "permanent"]],
  ["subjects/[subject]/versions/[version]/schema", ["GET"], ["deleted"]],
  ["subjects/[subject]/versions/[version]/referencedby", ["GET"], []],
  ["schemas/ids/[id]", ["GET"], ["subject", "format"]],
  ["schemas/ids/[id]/schema", ["GET"], ["subject", "format"]],
  ["schemas/ids/[id]/versions", ["GET"], ["subject", "deleted"]],
  ["schemas/ids/[id]/subjects", ["GET"], ["subject", "deleted"]],
  ["schemas/types", ["GET"], []],
  ["compatibility/subjects/[subject]/versions", ["POST"], ["verbose", "normalize"]],
  ["compatibility/subjects/[subject]/versions/[version]", ["POST"], ["verbose", "normalize"]],
  ["config", ["GET", "PUT", "DELETE"], []],
  ["config/[subject]", ["GET", "PUT", "DELETE"], ["defaultToGlobal"]],
  ["mode", ["GET", "PUT"], []],
  ["mode/[subject]", ["GET", "PUT", "DELETE"], ["defaultToGlobal", "force"]],
];

function registryRoute([suffix, methods, queryKeys]: (typeof REGISTRY_ROUTES)[number]): Route {
  const parts = ["api", "schema-registry", ...suffix.split("/").filter(Boolean)];
  const segments = parts.map((p) => {
    const match = /^\[(.+)\]$/.exec(p);
    return match ? { param: match[1]!, catchAll: false } : { literal: p };
  });
  return { kind: "registry", template: "/" + parts.join("/"), segments, methods, queryKeys };
}

/** The API routes (app/api/v1/**\/route.ts), the registry's, and pages (app/(portal), app/(auth), app/page.tsx). */
function discoverRoutes(): Route[] {
  const apiBase = path.join(ROOT, "app", "api", "v1");
  const apiRoutes = walk(apiBase)
    .filter((f) => path.basename(f) === "route.ts" && !f.includes(`${path.sep}_`))
    .map((f) => routeFrom("api", f, apiBase, "/api/v1"));
  const pages = [path.join(ROOT, "app", "(portal)"), path.join(ROOT, "app", "(auth)")].flatMap((base) =>
    walk(base)
      .filter((f) => path.basename(f) === "page.tsx")
      .map((f) => routeFrom("page", f, base, "")),
  );
  pages.push(routeFrom("page", path.join(ROOT, "app", "page.tsx"), path.join(ROOT, "app"), ""));
  return [...apiRoutes, ...REGISTRY_ROUTES.map(registryRoute), ...pages];
}

const GENERIC_QUERY_KEYS = ["q", "topic", "field", "limit", "offset", "format", "file", "team", "tag", "domain", "version", "from", "to", "cursor", "page", "state", "action", "actor", "since", "before", "mode"];

/** Who a request claims to be. */
type Credential = "admin" | "read" | "agent" | "cookie" | "garbage" | "none";
const CREDENTIALS: Credential[] = ["admin", "read", "agent", "cookie", "garbage", "none"];

/** One request of the fuzz. */
interface FuzzRequest {
  method: string;
  path: string;
  credential: Credential;
  headers: Record<string, string>;
  body?: Buffer;
  /** what produced it, for the report */
  label: string;
}

interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** Sends the request as is (no URL normalisation, so raw segments and bad percent-encoding reach the portal). */
function send(base: URL, request: FuzzRequest, auth: Record<Credential, Record<string, string>>): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers: { ...request.headers, ...auth[request.credential], ...(request.body ? { "content-length": String(request.body.length) } : {}) },
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 64 * 1024) chunks.push(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: Date.now() - started }));
        res.on("error", (error) => resolve({ status: -1, body: `response error: ${error.message}`, ms: Date.now() - started }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    req.on("error", (error) => resolve({ status: -1, body: `request error: ${error.message}`, ms: Date.now() - started }));
    if (request.body) req.end(request.body);
    else req.end();
  });
}

function hasMalformedEncoding(pathAndQuery: string): boolean {
  try {
    decodeURIComponent(pathAndQuery.split("?")[0]!);
    return false;
  } catch {
    return true;
  }
}

/** Why an answer breaks the rules, or null when it keeps them. */
function violation(route: Route, request: FuzzRequest, answer: Answer): string | null {
  if (answer.status === -1) return answer.body;
  if (answer.status >= 500) {
    if (request.method === "TRACE") return `answered ${answer.status} to TRACE`;
    if (hasMalformedEncoding(request.path)) return `answered ${answer.status} to malformed percent-encoding in the path${request.body ? ", with a body" : ""}`;
    return `answered ${answer.status}`;
  }
  // 431: Node's HTTP parser refuses oversized headers before any route runs. A path with dot segments
  // (`/api/v1/%2e%2e/x`) is normalised out of the API and gets the site's 404 page.
  const leavesApi = /(^|\/)(\.|%2e){2}(\/|$|\?)/i.test(request.path);
  if (route.kind === "registry" && !leavesApi && request.method !== "HEAD" && answer.status >= 400 && answer.status !== 431) {
    try {
      const parsed = JSON.parse(answer.body) as { error_code?: unknown; message?: unknown };
      if (typeof parsed?.error_code === "number" && typeof parsed.message === "string") return null;
    } catch {
      // not JSON
    }
    return `${answer.status} without Confluent's error shape: ${JSON.stringify(answer.body.slice(0, 200))}`;
  }
  if (route.kind !== "api" || leavesApi || request.method === "HEAD" || answer.status < 400 || answer.status === 431) return null;
  try {
    const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed?.error?.code === "string" && typeof parsed.error.message === "string") return null;
  } catch {
    // not JSON
  }
  return `${answer.status} without the error shape: ${JSON.stringify(answer.body.slice(0, 200))}`;
}

/** Values a route parameter takes when it should name something that exists. */
interface RealValues {
  app: string;
  version: string[];
  team: string;
  broker: string;
  userId: string;
  tokenId: string;
  channel: string;
  message: string;
  /** A direct registry subject with one version, and its schema id. */
  subject: string;
  schemaId: string;
}

function realValuesFor(route: Route, param: string, real: RealValues): string[] {
  const t = route.template;
  switch (param) {
    case "app":
      return [real.app];
    case "version":
      return route.kind === "registry" ? ["1", "latest"] : real.version;
    case "subject":
      return [encodeURIComponent(real.subject)];
    case "slug":
      return [real.team];
    case "userId":
      return [real.userId];
    case "address":
      return [encodeURIComponent(real.channel)];
    case "key":
      return [encodeURIComponent(real.message)];
    case "id":
      if (t.includes("/schemas/ids/")) return [real.schemaId];
      if (t.includes("/tokens/")) return [real.tokenId];
      if (t.includes("/users/")) return [real.userId];
      if (t.includes("/brokers/")) return [real.broker];
      return ["brg_0000000000000000"];
    default:
      return ["x"];
  }
}

/** A path with the given raw values for its parameters (a catch-all takes one or more segments). */
function buildPath(route: Route, values: string[], query = ""): string {
  let i = 0;
  const parts = route.segments.map((s) => ("literal" in s ? s.literal : values[i++] ?? "x"));
  return "/" + parts.join("/") + (query ? `?${query}` : "");
}

const paramCount = (route: Route) => route.segments.filter((s) => !("literal" in s)).length;

/** The corpus requests for a route: hostile path segments, query values and bodies. */
function corpusRequests(route: Route, real: RealValues): FuzzRequest[] {
  const requests: FuzzRequest[] = [];
  const params = route.segments.filter((s): s is { param: string; catchAll: boolean } => !("literal" in s));
  const realParams = params.map((p) => realValuesFor(route, p.param, real)[0]!);
  const readMethod: Method = route.methods.includes("GET") ? "GET" : route.methods[0]!;
  // Path segments, one parameter at a time, the others real.
  params.forEach((_, index) => {
    for (const segment of pathSegments()) {
      const values = [...realParams];
      values[index] = segment;
      requests.push({ method: readMethod, path: buildPath(route, values), credential: "admin", headers: {}, label: `segment ${index}=${segment.slice(0, 40)}` });
    }
  });
  // Query values under the keys the route reads, and a few generic ones; arrays by repeating a key.
  const keys = [...new Set([...route.queryKeys, "limit", "q"])];
  for (const value of queryValues()) {
    const key = keys[requests.length % keys.length]!;
    requests.push({ method: readMethod, path: buildPath(route, realParams, `${key}=${value}`), credential: "admin", headers: {}, label: `query ${key}=${value.slice(0, 40)}` });
  }
  requests.push({ method: readMethod, path: buildPath(route, realParams, keys.map((k) => `${k}=1&${k}=2&${k}[]=3`).join("&")), credential: "admin", headers: {}, label: "query arrays" });
  // Bodies for the routes that take one.
  const writeMethods = route.methods.filter((m) => m === "POST" || m === "PUT" || m === "PATCH");
  if (route.kind === "registry" && writeMethods.length) {
    for (const method of writeMethods) {
      for (const c of [...jsonBodyCases(), ...registryBodyCases()]) {
        requests.push({ method, path: buildPath(route, realParams), credential: "admin", headers: c.headers, body: c.body, label: `body ${c.name}` });
      }
    }
  }
  if (route.kind === "api" && writeMethods.length) {
    const cases: BodyCase[] = route.template.includes("/ingest/")
      ? reportCases()
      : /\/versions$|\/evaluate$|\/validate$/.test(route.template)
        ? documentCases()
        : jsonBodyCases();
    const credential: Credential = route.template.includes("/ingest/") ? "agent" : "admin";
    for (const method of writeMethods) {
      for (const c of cases) requests.push({ method, path: buildPath(route, realParams), credential, headers: c.headers, body: c.body, label: `body ${c.name}` });
    }
  }
  return requests;
}

/** Register, look-up, config and mode bodies that are almost right: wrong types, bad schemas, huge references. */
function registryBodyCases(): BodyCase[] {
  const headers = { "content-type": "application/vnd.schemaregistry.v1+json" };
  const cases: Array<[string, unknown]> = [
    ["schema-not-string", { schema: { type: "string" } }],
    ["schema-bad-json", { schema: '{"type":' }],
    ["schema-bad-avro", { schema: '{"type":"record","name":"x","fields":[{"name":"a","type":"nope"}]}' }],
    ["schema-bad-json-schema", { schemaType: "JSON", schema: '{"type":"no-such-type","properties":5}' }],
    ["schema-bad-proto", { schemaType: "PROTOBUF", schema: "message { int32 = ; }" }],
    ["schema-unknown-type", { schemaType: "XML", schema: "<x/>" }],
    ["schema-deep", { schemaType: "JSON", schema: "[".repeat(50_000) + "]".repeat(50_000) }],
    ["schema-huge", { schemaType: "JSON", schema: JSON.stringify({ description: "d".repeat(2 * 1024 * 1024) }) }],
    ["references-bad", { schema: '"string"', references: [{ name: 5, subject: null, version: "x" }] }],
    ["references-many", { schema: '"string"', references: Array.from({ length: 5_000 }, (_, i) => ({ name: `n${i}`, subject: "s", version: 1 })) }],
    ["references-missing", { schema: '"string"', references: [{ name: "a.b", subject: "no-such-subject", version: 2 ** 31 }] }],
    ["import-id", { schema: '"string"', id: 2 ** 40, version: -1 }],
    ["compatibility-bad", { compatibility: "SIDEWAYS" }],
    ["compatibility-type", { compatibility: ["FULL"] }],
    ["mode-bad", { mode: "READWRITE\u0000" }],
    ["mode-import", { mode: "IMPORT" }],
  ];
  return cases.map(([name, value]) => ({ name: `registry/${name}`, body: Buffer.from(JSON.stringify(value)), headers }));
}

/** fast-check's hostile requests for a route, from a fixed seed. */
function generatedRequests(route: Route, real: RealValues, runs: number, seed: number): FuzzRequest[] {
  const count = paramCount(route);
  const segment = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom("x", ...route.segments.filter((s) => !("literal" in s)).flatMap((s) => realValuesFor(route, (s as { param: string }).param, real))) },
    { weight: 2, arbitrary: fc.constantFrom(...pathSegments()) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => encodeURIComponent(s) || "x") },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String) },
  );
  const keys = [...new Set([...route.queryKeys, ...GENERIC_QUERY_KEYS])];
  const queryValue = fc.oneof(
    fc.constantFrom(...queryValues()),
    fc.string({ unit: "grapheme", maxLength: 60 }).map(encodeURIComponent),
    fc.oneof(fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n })).map(String),
  );
  const query = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 }).map(encodeURIComponent)), queryValue), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v]) => `${k}${k.length % 3 === 0 ? "[]" : ""}=${v}`).join("&"));
  const contentType = fc.constantFrom(
    "application/json",
    "application/yaml",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "application/vnd.schemaregistry.v1+json",
    "",
  );
  const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 });
  const headers = fc.record(
    {
      "content-type": contentType,
      "content-encoding": fc.constantFrom("gzip", "br", "deflate", "identity", "x-bogus"),
      accept: fc.constantFrom("*/*", "text/html", "application/json", "text/x-component", ""),
      origin: fc.constantFrom("http://evil.example", "null", ""),
      "sec-fetch-site": fc.constantFrom("cross-site", "same-origin", "none"),
      "x-forwarded-for": headerValue,
      "x-meshport-peer": headerValue,
      "accept-language": headerValue,
      "if-none-match": headerValue,
      range: fc.constantFrom("bytes=0-0", "bytes=99999999999-", "bytes=-1", "x"),
      rsc: fc.constantFrom("1", "0"),
      "next-action": headerValue,
      "next-router-state-tree": headerValue,
    },
    { requiredKeys: [] },
  );
  const documents = documentCases();
  const reports = reportCases();
  const jsonBodies = jsonBodyCases();
  const body = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(...documents, ...reports, ...jsonBodies).map((c) => c.body),
    fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
    fc.string({ unit: "binary", maxLength: 500 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)),
    fc
      .record({ scopes: fc.array(fc.string()), name: fc.string(), slug: fc.string(), files: fc.dictionary(fc.string(), fc.string()), version: fc.string(), state: fc.string() }, { requiredKeys: [] })
      .map((v) => Buffer.from(JSON.stringify(v))),
    fc.constant(Buffer.from(JSON.stringify(baseReport()))),
  );
  const method = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...route.methods) }, { weight: 1, arbitrary: fc.constantFrom<string>(...METHODS, "PROPFIND", "TRACE") });
  const request = fc.record({
    method,
    segments: fc.array(segment, { minLength: count, maxLength: count }),
    extraSegments: fc.array(segment, { maxLength: route.segments.some((s) => !("literal" in s) && s.catchAll) ? 3 : 0 }),
    query,
    credential: fc.constantFrom(...CREDENTIALS),
    headers,
    body,
  });
  return fc.sample(request, { seed, numRuns: runs }).map((r) => {
    const values = r.extraSegments.length ? [...r.segments.slice(0, -1), [r.segments.at(-1) ?? "x", ...r.extraSegments].join("/")] : r.segments;
    const noBody = r.method === "GET" || r.method === "HEAD";
    return {
      method: r.method,
      path: buildPath(route, values, r.query),
      credential: r.credential,
      headers: Object.fromEntries(Object.entries(r.headers).filter(([, v]) => v !== "")),
      body: noBody ? undefined : r.body,
      label: "generated",
    };
  });
}

afterAll(async () => {
  await stopAllPortals();
  await stopPostgresServer();
});

/**
 * Pings the portal every 250 ms from a worker thread, so the fuzzer's own work (building bodies, fast-check) cannot
 * delay a ping and pass for a stalled portal; each ping unanswered within the bound is reported.
 */
function startPinger(base: string, report: (problem: string) => void): { stop(): Promise<void> } {
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    let running = true;
    parentPort.on("message", () => { running = false; });
    (async () => {
      while (running) {
        const started = Date.now();
        try {
          const response = await fetch(workerData.url, { signal: AbortSignal.timeout(workerData.bound) });
          await response.arrayBuffer();
          if (response.status !== 200) parentPort.postMessage("ping answered " + response.status);
        } catch (error) {
          parentPort.postMessage("ping not answered within " + workerData.bound + " ms at " + new Date(started).toISOString() + " (" + error.message + ")");
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      parentPort.postMessage(null);
    })();
  `;
  const worker = new Worker(source, { eval: true, workerData: { url: `${base}/api/v1/ping`, bound: PING_BOUND_MS } });
  const done = new Promise<void>((resolve) => {
    worker.on("message", (message: string | null) => (message === null ? resolve() : report(message)));
    worker.on("error", (error) => {
      report(`pinger failed: ${error.message}`);
      resolve();
    });
  });
  return {
    async stop() {
      worker.postMessage("stop");
      await done;
      await worker.terminate();
    },
  };
}

describeEachBackend("every route under hostile input", (kind) => {
  let backend: Backend | null;
  let portal: Portal;
  const auth = {} as Record<Credential, Record<string, string>>;
  let real: RealValues;

  beforeAll(async () => {
    backend = await freshBackend(kind);
    if (!backend) return;
    const { adminToken } = bootstrapAccounts(backend);
    portal = await createPortal(backend);
    await portal.start();
    // Something real behind the parameters: a team, an application with a version, a broker, a user and a token to spare.
    await createApplication(portal.url, adminToken, "fuzz-app", "fuzz-team");
    const document = readFileSync(path.join(ROOT, "e2e", "faults", "testdata", "valid-contract.yaml"), "utf8");
    const published = await fetch(`${portal.url}/api/v1/applications/fuzz-app/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/yaml" },
      body: document,
    });
    expect(published.status, await published.clone().text()).toBe(201);
    const readToken = (await api<{ secret: string }>(portal.url, "POST", "/api/v1/admin/tokens", adminToken, { name: "fuzz-read", scopes: ["read"] })).secret;
    const agentToken = await createAgentToken(portal.url, adminToken, "fuzz-broker");
    const spare = await api<{ token: { id: string } }>(portal.url, "POST", "/api/v1/admin/tokens", adminToken, { name: "fuzz-spare", scopes: ["read"] });
    const user = await api<{ user: { id: string } }>(portal.url, "POST", "/api/v1/admin/users", adminToken, {
      name: "Spare User",
      email: "spare@example.com",
      password: "spare user password",
      role: "viewer",
    });
    const report = await fetch(`${portal.url}/api/v1/ingest/reports`, {
      method: "POST",
      headers: { authorization: `Bearer ${agentToken}`, "content-type": "application/json" },
      body: JSON.stringify(baseReport("fuzz-broker")),
    });
    expect(report.status, await report.clone().text()).toBe(202);
    // A direct registry subject, registered the way Confluent clients do (Basic auth, token as the password).
    const registered = await fetch(`${portal.url}/api/schema-registry/subjects/fuzz-value/versions`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`fuzz:${adminToken}`).toString("base64")}`, "content-type": "application/vnd.schemaregistry.v1+json" },
      body: JSON.stringify({ schema: JSON.stringify({ type: "record", name: "Reading", fields: [{ name: "value", type: "double" }] }) }),
    });
    expect(registered.status, await registered.clone().text()).toBe(200);
    const { id: schemaId } = (await registered.json()) as { id: number };
    const cookie = await signIn(portal.url);
    auth.admin = { authorization: `Bearer ${adminToken}` };
    auth.read = { authorization: `Bearer ${readToken}` };
    auth.agent = { authorization: `Bearer ${agentToken}` };
    auth.cookie = { cookie };
    auth.garbage = { authorization: "Bearer mp_\u0000garbage".replace("\u0000", "%00"), cookie: "better-auth.session_token=x%00y; a=b" };
    auth.none = {};
    real = {
      app: "fuzz-app",
      version: ["1.0.0", "latest"],
      team: "fuzz-team",
      broker: "fuzz-broker",
      userId: user.user.id,
      tokenId: spare.token.id,
      channel: "fuzz/{site}/reading",
      message: "reading",
      subject: "fuzz-value",
      schemaId: String(schemaId),
    };
  });

  afterAll(async () => {
    await portal?.stop();
    if (backend) removeBackend(backend);
  });

  it("answers every request with a 2xx, 3xx or 4xx (API errors in their shape) and keeps answering pings", async ({ skip }) => {
    if (!backend) return skip("PostgreSQL is not installed");
    logsOnFailure();
    const routes = discoverRoutes();
    expect(routes.filter((r) => r.kind === "api").length).toBeGreaterThan(20);
    expect(routes.filter((r) => r.kind === "page").length).toBeGreaterThan(10);

    const base = new URL(portal.url);
    // What the fuzzer was sending when a ping went unanswered, to tell which request stalled the portal.
    let inFlight = "";
    const slowPings: string[] = [];
    const pinger = startPinger(portal.url, (problem) => slowPings.push(`${problem} while sending ${inFlight}`));

    // Failures grouped by what went wrong, with the routes it happened on and a few requests that show it.
    const failures = new Map<string, { routes: Set<string>; examples: string[] }>();
    let sent = 0;
    try {
      for (const [index, route] of routes.entries()) {
        const requests = [
          ...corpusRequests(route, real),
          ...generatedRequests(route, real, route.kind !== "page" ? RUNS_PER_API_ROUTE * route.methods.length : RUNS_PER_PAGE, SEED + index),
        ];
        for (const request of requests) {
          inFlight = `${request.label}; ${request.method} ${request.path.slice(0, 120)}${request.body ? ` (${request.body.length}-byte body)` : ""}`;
          const answer = await send(base, request, auth);
          sent++;
          const problem = violation(route, request, answer);
          if (!problem) continue;
          const key = problem.replace(/[0-9a-f-]{36}/g, "…").slice(0, 120);
          const entry = failures.get(key) ?? { routes: new Set<string>(), examples: [] };
          const routeKey = `${request.method} ${route.template}`;
          if (!entry.routes.has(routeKey) && entry.examples.length < 6) {
            entry.examples.push(`${request.label}; credential ${request.credential}; ${request.method} ${request.path.slice(0, 200)}${request.body ? ` (${request.body.length}-byte body)` : ""}`);
          }
          entry.routes.add(routeKey);
          failures.set(key, entry);
        }
      }
    } finally {
      await pinger.stop();
    }
    const report = [...failures].map(
      ([problem, { routes: where, examples }]) => `${problem}\n  on ${[...where].sort().join(", ")}\n  e.g. ${examples.join("\n  e.g. ")}`,
    );
    expect(report, `${report.length} kinds of failure over ${sent} requests`).toEqual([]);
    expect(slowPings).toEqual([]);
    // Still healthy at the end.
    expect((await fetch(`${portal.url}/api/v1/health`)).status).toBe(200);
  });
});
