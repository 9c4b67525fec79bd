/**
 * `meshport push` and `meshport audit verify|export` as CI runs them: the CLI spawned through bin/meshport.mjs,
 * talking HTTP to a loopback server that hands each request to the portal's real route handlers on the test
 * database.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { auditEntry, changeRequest } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { CLIENT_ADDRESS_HEADER, PEER_HEADER } from "@/lib/http/client-address.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as exportRoute from "@/app/api/v1/audit/export/route.ts";
import * as verifyRoute from "@/app/api/v1/audit/verify/route.ts";
import * as changeRequestsRoute from "@/app/api/v1/applications/[app]/change-requests/route.ts";
import * as versionsRoute from "@/app/api/v1/applications/[app]/versions/route.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Response | Promise<Response>;

const ROUTES: { pattern: RegExp; handlers: Record<string, unknown>; params: string[] }[] = [
  { pattern: /^\/api\/v1\/audit\/verify$/, handlers: verifyRoute, params: [] },
  { pattern: /^\/api\/v1\/audit\/export$/, handlers: exportRoute, params: [] },
  { pattern: /^\/api\/v1\/applications\/([^/]+)\/versions$/, handlers: versionsRoute, params: ["app"] },
  { pattern: /^\/api\/v1\/applications\/([^/]+)\/change-requests$/, handlers: changeRequestsRoute, params: ["app"] },
];

/** Hands a node:http request to the route handler of its path, and streams the answer back. */
async function forward(req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
  const url = new URL(req.url ?? "/", base);
  const route = ROUTES.find((r) => r.pattern.test(url.pathname));
  const handler = route?.handlers[req.method ?? "GET"] as Handler | undefined;
  if (!route || !handler) {
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "not_found:route", message: "No such route." } }));
    return;
  }
  const match = route.pattern.exec(url.pathname)!;
  const params = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
  // As the portal's server does: the socket peer in its header, and no client-supplied computed address.
  headers.set(PEER_HEADER, req.socket.remoteAddress ?? "");
  headers.delete(CLIENT_ADDRESS_HEADER);
  const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
  const response = await handler(new Request(url, { method: req.method, headers, ...(body ? { body } : {}) }), { params: Promise.resolve(params) });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  Readable.fromWeb(response.body as WebReadableStream<Uint8Array>).pipe(res);
}

function meshport(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "bin", "meshport.mjs"), ...args],
      { cwd: ROOT, timeout: 60_000, env: { ...process.env, MESHPORT_CLI: "source", MESHPORT_PORTAL: "", MESHPORT_TOKEN: "", ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const contract = (version: string, totalType: string, extra = "") => `asyncapi: 3.0.0
info:
  title: Orders
  version: ${version}
  description: Orders placed in the shop.
channels:
  created:
    address: shop/orders/created
    description: A new order.
    messages:
      orderCreated:
        $ref: '#/components/messages/orderCreated'
operations:
  sendOrderCreated:
    action: send
    channel:
      $ref: '#/channels/created'
    messages:
      - $ref: '#/channels/created/messages/orderCreated'
components:
  messages:
    orderCreated:
      name: orderCreated
      contentType: application/json
      payload:
        type: object
        properties:
          orderId:
            type: string
          total:
            type: ${totalType}
${extra}`;

const consumerContract = `asyncapi: 3.0.0
info:
  title: Billing
  version: 1.0.0
  description: Bills orders.
channels:
  orders:
    address: shop/orders/created
    description: Orders to bill.
    messages:
      orderCreated:
        name: orderCreated
        contentType: application/json
        payload:
          type: object
          properties:
            orderId:
              type: string
            total:
              type: number
operations:
  receiveOrder:
    action: receive
    channel:
      $ref: '#/channels/orders'
    messages:
      - $ref: '#/channels/orders/messages/orderCreated'
`;

describeEachBackend("meshport CLI against a portal", ({ handle }) => {
  let server: Server;
  let portal: string;
  let token: string;
  let readToken: string;
  let dir: string;
  const file = (name: string, text: string) => {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return target;
  };

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    const admin: Principal = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    token = (await createToken(admin, { name: "ci", scopes: ["admin"] })).secret;
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    await createTeam(admin, { slug: "shop", name: "Shop" });
    await createApplication(admin, { slug: "orders", name: "Orders", team: "shop" });
    // A consumer of the orders channel, declared by its own contract, owned by another team.
    await createTeam(admin, { slug: "finance", name: "Finance" });
    await createApplication(admin, { slug: "billing", name: "Billing", team: "finance" });
    await publishVersion(admin, "billing", { files: { "billing.yaml": consumerContract } });
    dir = mkdtempSync(path.join(tmpdir(), "meshport-portal-cli-"));
    server = createServer((req, res) => {
      forward(req, res, portal).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    portal = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("push publishes (0), says so when the content exists (0), refuses a breaking change for review (1) and invalid input (2)", async () => {
    const v1 = file("orders-1.yaml", contract("1.0.0", "number"));
    const first = await meshport(["push", v1, "--app", "orders", "--portal", portal, "--token", token]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Published orders 1\.0\.0\./);

    // The environment names the portal and token as well as the flags do.
    const again = await meshport(["push", v1, "--app", "orders", "--format", "json"], { MESHPORT_PORTAL: portal, MESHPORT_TOKEN: token });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "unchanged", exitCode: 0, status: 200, app: "orders" });

    const breaking = file("orders-2.yaml", contract("2.0.0", "string"));
    const [refused, github] = await Promise.all([
      meshport(["push", breaking, "--app", "orders", "--portal", portal, "--token", token]),
      meshport(["push", breaking, "--app", "orders", "--portal", portal, "--token", token, "--format", "github"]),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Review required for orders: .*change request/);
    expect(refused.stderr).toContain(`meshport push ${breaking} --app orders --review`);
    expect(refused.stderr).toContain(`${portal}/api/v1/applications/orders/change-requests`);
    expect(refused.stderr).toContain("INCOMPATIBLE");

    expect(github.code).toBe(1);
    const lines = readFileSync(breaking, "utf8").split("\n");
    const annotation = github.stdout.split("\n").find((l) => l.startsWith("::error file=") && l.includes("line="));
    expect(annotation, github.stdout).toBeDefined();
    expect(annotation).toContain(`file=${breaking.replace(/:/g, "%3A")}`);
    const line = Number(/line=(\d+)/.exec(annotation!)![1]);
    // The annotation sits on the changed type of `total` in the pushed file.
    expect(lines.slice(line - 2, line).join("\n"), annotation).toMatch(/total:|type: string/);
    expect(github.stdout).toMatch(/^::error title=meshport push::Review required for orders/m);

    const invalid = await meshport(["push", file("broken.yaml", "asyncapi: 3.0.0\ninfo:\n  title: x\nchannels: {}\n"), "--app", "orders", "--portal", portal, "--token", token]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^Invalid for orders \(invalid_input:contract\)/);
    expect(invalid.stderr).toMatch(/broken\.yaml:\d+:\d+ error/);
  });

  it("push --review submits the breaking change as a change request (0): the summary names the consumer it breaks and links the request", async () => {
    const breaking = file("orders-2r.yaml", contract("2.0.0", "string"));
    const result = await meshport(["push", breaking, "--app", "orders", "--review", "--title", "Totals as text", "--description", "Money as decimal text.", "--portal", portal, "--token", token, "--format", "markdown"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const number = Number(/Change request #(\d+) opened for orders \(open\)/.exec(result.stdout)?.[1]);
    const [stored] = await handle().db.select().from(changeRequest).where(eq(changeRequest.number, number));
    expect(stored).toMatchObject({ title: "Totals as text", description: "Money as decimal text.", state: "open", breaking: true });
    const out = result.stdout;
    expect(out).toMatch(/^## 📝 meshport push: `orders`\n\nChange request #\d+ opened for orders \(open\)/);
    expect(out).toContain(`**Change request:** [#${number}](${portal}/reviews/${number})`);
    expect(out).toContain("**Suggested version:** `2.0.0`");
    expect(out).toMatch(/\| breaking \| `TYPE_CHANGED` \| payload \| consumers \|/);
    expect(out).toMatch(/\| `billing` \| finance \| consumer \| \*\*yes\*\* \| [1-9]\d* \| [^|]+ \| contract \|/);
    expect(out).toMatch(/\*\*Reviewers requested:\*\* .*\(owner\), .*\(consumer for billing\)/);

    const text = await meshport(["push", breaking, "--app", "orders", "--review", "--portal", portal, "--token", token]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^Change request #\\d+ opened for orders \\(open\\): ${portal.replace(/[.]/g, "\\.")}/reviews/\\d+\\.`));
    expect(text.stdout).toMatch(/billing \(finance, consumer\) BREAKS: \d+ findings?/);
  });

  it("push answers 2 to a bad token, an unknown application, a missing portal and an unreachable one", async () => {
    const v1 = file("orders-x.yaml", contract("1.0.1", "number"));
    const results = await Promise.all([
      meshport(["push", v1, "--app", "orders", "--portal", portal, "--token", `mpt_${"x".repeat(43)}`]),
      meshport(["push", v1, "--app", "nobody-here", "--portal", portal, "--token", token]),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2]);
    expect(results[0]!.stderr).toMatch(/refused the token/);
    expect(results[1]!.stderr).toMatch(/nobody-here/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const [missing, unreachable] = await Promise.all([
      meshport(["push", v1, "--app", "orders", "--token", token]),
      meshport(["audit", "verify", "--portal", `http://127.0.0.1:${deadPort}`, "--token", token]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--portal URL or MESHPORT_PORTAL/);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/cannot reach the portal/);
  });

  it("audit export streams the filtered log as CSV to a file and as JSON to stdout; audit verify answers 0 intact, 1 broken", async () => {
    const out = path.join(dir, "audit.csv");
    const [csv, json, denied] = await Promise.all([
      meshport(["audit", "export", "--app", "orders", "--action", "contract.publish", "--output", out, "--portal", portal, "--token", token]),
      meshport(["audit", "export", "--format", "json", "--action", "application.", "--action", "team.create", "--portal", portal, "--token", token]),
      meshport(["audit", "export", "--portal", portal, "--token", readToken]),
    ]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const records = readFileSync(out, "utf8").split("\r\n");
    expect(records[0]).toBe("seq,at,actor_kind,actor_id,actor_label,from,action,target_type,target_id,application,details,hash,prev_hash");
    expect(records.slice(1, -1)).toHaveLength(1);
    expect(records[1]).toMatch(/,token,[^,]+,token ci,127\.0\.0\.1,contract\.publish,application,[^,]+,orders,"\{/);
    expect(records.at(-1)).toBe("");

    expect(json.code, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as { action: string; application: string | null }[];
    expect(rows.map((r) => [r.action, r.application])).toEqual([
      ["application.create", "billing"],
      ["team.create", null],
      ["application.create", "orders"],
      ["team.create", null],
    ]);

    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/may not/);

    const intact = await meshport(["audit", "verify", "--portal", portal, "--token", token]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^Audit chain intact: \d+ entries verified; head [0-9a-f]{64}\.$/m);

    const [victim] = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "team.create"));
    await handle().db.update(auditEntry).set({ actorLabel: "someone else" }).where(eq(auditEntry.seq, victim!.seq));
    const broken = await meshport(["audit", "verify", "--format", "json", "--portal", portal, "--token", token]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, brokenAt: { seq: victim!.seq, reason: "hash_mismatch" } });
    const text = await meshport(["audit", "verify", "--portal", portal, "--token", token]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`BROKEN at entry #${victim!.seq}`);
  });
});
