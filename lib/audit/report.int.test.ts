import { desc } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { auditEntry } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as exportRoute from "@/app/api/v1/audit/export/route.ts";
import * as listRoute from "@/app/api/v1/audit/route.ts";
import { AUDIT_EXPORT_PAGE_SIZE, exportAudit, listAudit, verifyAuditChain } from "./audit.ts";
import { auditHash, GENESIS_HASH } from "./chain.ts";
import type { AuditRow } from "./format.ts";

const BASE = "http://localhost:3000";

function get(handler: (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>, path: string, token: string) {
  return handler(new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } }), { params: Promise.resolve({}) });
}

/** A CSV parser for the test (RFC 4180: quoted fields, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      field = "";
      record = [];
      i++;
    } else field += c;
  }
  expect(field).toBe("");
  return records;
}

describeEachBackend("audit report", ({ handle }) => {
  let admin: Principal;
  let adminToken: string;
  let readToken: string;
  let firstSeq: number;

  /** Appends entries at chosen instants, each linked to the one before (as recordAudit would, but with a chosen time). */
  async function append(entries: { at: string; actor?: { kind: string; id: string; label: string }; action: string; targetType?: string; targetId?: string; details?: Record<string, unknown> }[]) {
    const db = handle().db;
    const [last] = await db.select({ hash: auditEntry.hash }).from(auditEntry).orderBy(desc(auditEntry.seq)).limit(1);
    let prevHash = last?.hash ?? GENESIS_HASH;
    for (const e of entries) {
      const actor = e.actor ?? { kind: "user", id: "u-grace", label: "Grace@Example.com" };
      const content = {
        at: new Date(e.at),
        actorKind: actor.kind,
        actorId: actor.id,
        actorLabel: actor.label,
        action: e.action,
        targetType: e.targetType ?? "application",
        targetId: e.targetId ?? "app-1",
        details: e.details ?? {},
      };
      const hash = auditHash(prevHash, content);
      await db.insert(auditEntry).values({ ...content, prevHash, hash });
      prevHash = hash;
    }
  }

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    adminToken = (await createToken(admin, { name: "auditor", scopes: ["admin"] })).secret;
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    const [last] = await handle().db.select({ seq: auditEntry.seq }).from(auditEntry).orderBy(desc(auditEntry.seq)).limit(1);
    firstSeq = (last?.seq ?? 0) + 1;
    await append([
      { at: "2026-11-01T09:00:00Z", action: "contract.publish", details: { application: "orders", version: "1.0.0", from: "198.51.100.7" } },
      { at: "2026-11-01T23:59:59.999Z", action: "change_request.open", details: { application: "orders", number: 1 } },
      { at: "2026-11-02T00:00:00Z", action: "change_request.approve", details: { application: "billing" }, actor: { kind: "token", id: "t-ci", label: "token ci" } },
      { at: "2026-11-03T12:30:00Z", action: "application.update", details: { application: "orders", before: { name: "Orders" }, after: { name: "=HYPERLINK(\"x\")" } } },
      { at: "2026-11-04T08:00:00Z", action: "contract.deprecate", details: { application: "orders", from: "released", to: "deprecated" }, targetType: "contract_version", targetId: "v-9" },
    ]);
  });

  it("filters by time range, actor, application, action (several, or a prefix) and target, newest first", async () => {
    const actions = async (input: Record<string, unknown>) => (await listAudit(admin, { limit: 500, ...input })).entries.filter((e) => e.seq >= firstSeq).map((e) => e.action);
    expect(await actions({ application: "orders" })).toEqual(["contract.deprecate", "application.update", "change_request.open", "contract.publish"]);
    expect(await actions({ application: "Orders", action: "change_request." })).toEqual(["change_request.open"]);
    expect(await actions({ action: ["contract.publish", "contract.deprecate"] })).toEqual(["contract.deprecate", "contract.publish"]);
    expect(await actions({ action: "contract.publish,change_request." })).toEqual(["change_request.approve", "change_request.open", "contract.publish"]);
    // A date as "to" takes in the whole day; "from" is inclusive.
    expect(await actions({ from: "2026-11-01", to: "2026-11-01" })).toEqual(["change_request.open", "contract.publish"]);
    expect(await actions({ from: "2026-11-02T00:00:00Z", to: "2026-11-03T12:30" })).toEqual(["application.update", "change_request.approve"]);
    expect(await actions({ actor: "grace@example.COM", application: "orders", to: "2026-11-02" })).toEqual(["change_request.open", "contract.publish"]);
    expect(await actions({ actor: "t-ci" })).toEqual(["change_request.approve"]);
    expect(await actions({ targetType: "contract_version", targetId: "v-9" })).toEqual(["contract.deprecate"]);
    // The existing contract: paging by seq with `before`, and `nextBefore` when there is more.
    const first = await listAudit(admin, { limit: 2, application: "orders" });
    expect(first.entries.map((e) => e.action)).toEqual(["contract.deprecate", "application.update"]);
    const second = await listAudit(admin, { limit: 2, application: "orders", before: first.nextBefore });
    expect(second.entries.map((e) => e.action)).toEqual(["change_request.open", "contract.publish"]);
    expect(second.nextBefore).toBeNull();
  });

  it("refuses malformed filters with field errors, and readers without audit:read", async () => {
    for (const [query, field] of [
      ["from=yesterday", "from"],
      ["to=2026-02-31", "to"],
      ["from=2026-11-03&to=2026-11-01", "to"],
      ["action=DROP%20TABLE", "action"],
      [`action=${Array.from({ length: 21 }, (_, i) => `a${i}.`).join(",")}`, "action"],
      [`actor=${"x".repeat(400)}`, "actor"],
    ] as const) {
      const response = await get(listRoute.GET, `/api/v1/audit?${query}`, adminToken);
      expect(response.status, query).toBe(422);
      const body = (await response.json()) as { error: { code: string; details: { fieldErrors: Record<string, string[]> } } };
      expect(body.error.code, query).toBe("invalid_input");
      expect(Object.keys(body.error.details.fieldErrors), query).toEqual([field]);
    }
    const format = await get(exportRoute.GET, "/api/v1/audit/export?format=xlsx", adminToken);
    expect(format.status).toBe(422);
    expect((await get(exportRoute.GET, "/api/v1/audit/export", readToken)).status).toBe(403);
    expect((await get(listRoute.GET, "/api/v1/audit", readToken)).status).toBe(403);
  });

  it("lists through the API with the new filters", async () => {
    const response = await get(listRoute.GET, "/api/v1/audit?application=orders&action=contract.&limit=1", adminToken);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { entries: { action: string }[]; nextBefore: number | null };
    expect(body.entries.map((e) => e.action)).toEqual(["contract.deprecate"]);
    expect(body.nextBefore).not.toBeNull();
  });

  it("exports CSV as a streamed attachment: header, quoting, formula cells neutralised, client address and application columns", async () => {
    const response = await get(exportRoute.GET, "/api/v1/audit/export?format=csv&application=orders", adminToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="meshport-audit-\d{8}T\d{6}Z\.csv"$/);
    expect(response.body).toBeInstanceOf(ReadableStream);
    const records = parseCsv(await response.text());
    expect(records[0]).toEqual(["seq", "at", "actor_kind", "actor_id", "actor_label", "from", "action", "target_type", "target_id", "application", "details", "hash", "prev_hash"]);
    const rows = records.slice(1);
    expect(rows.map((r) => r[6])).toEqual(["contract.deprecate", "application.update", "change_request.open", "contract.publish"]);
    const publish = rows[3]!;
    expect(publish.slice(0, 10)).toEqual([String(firstSeq), "2026-11-01T09:00:00.000Z", "user", "u-grace", "Grace@Example.com", "198.51.100.7", "contract.publish", "application", "app-1", "orders"]);
    expect(JSON.parse(publish[10]!)).toEqual({ application: "orders", version: "1.0.0", from: "198.51.100.7" });
    // "from" that is a prior state, not an address, is no client address.
    expect(rows[0]![5]).toBe("");
    const [entry] = (await listAudit(admin, { limit: 1, action: "contract.publish", application: "orders" })).entries;
    expect(publish.slice(11)).toEqual([entry!.hash, entry!.prevHash]);
    // The details cell starts with "{", so it is left as it is; a formula inside JSON is no formula.
    expect(rows[1]![10]!.startsWith("{")).toBe(true);
  });

  it("exports JSON as one array that reads back to the entries, page after page across the whole log, chain intact", async () => {
    // More than two export pages of entries, so the keyset paging is crossed twice.
    const many = Array.from({ length: AUDIT_EXPORT_PAGE_SIZE * 2 + 7 }, (_, i) => ({
      at: new Date(Date.UTC(2026, 10, 10, 0, 0, i)).toISOString(),
      action: "webhook.test",
      targetType: "webhook",
      targetId: `w-${i}`,
      details: { n: i },
    }));
    await append(many);
    const response = await get(exportRoute.GET, "/api/v1/audit/export?format=json&action=webhook.test", adminToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(/filename="meshport-audit-\d{8}T\d{6}Z\.json"$/);
    const text = await response.text();
    const rows = JSON.parse(text) as AuditRow[];
    expect(rows).toHaveLength(many.length);
    expect(rows.map((r) => r.details.n)).toEqual(many.map((_, i) => many.length - 1 - i));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(many.length);
    expect(rows[0]).toMatchObject({ action: "webhook.test", actor: { kind: "user", id: "u-grace", label: "Grace@Example.com" }, target: { type: "webhook", id: `w-${many.length - 1}` }, application: null, from: null });
    // One entry a line, between the brackets.
    expect(text.split("\n")).toHaveLength(many.length + 3);

    const { pages } = await exportAudit(admin, { action: ["webhook.test"] });
    const sizes: number[] = [];
    for await (const page of pages) sizes.push(page.length);
    expect(sizes).toEqual([AUDIT_EXPORT_PAGE_SIZE, AUDIT_EXPORT_PAGE_SIZE, 7]);

    const empty = await get(exportRoute.GET, "/api/v1/audit/export?format=json&application=nobody", adminToken);
    expect(JSON.parse(await empty.text())).toEqual([]);
    expect((await verifyAuditChain(admin)).ok).toBe(true);
  });
});
