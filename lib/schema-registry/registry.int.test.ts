import { and, count, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { setDatabaseHandle, type DatabaseHandle } from "@/db/client.ts";
import { auditEntry, registrySchema, registrySchemaReference, registrySubject, registrySubjectVersion, type Team } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { parseSchema } from "@/registry/schematypes/index.ts";
import {
  deleteCompatibility,
  deleteMode,
  deleteSubject,
  deleteSubjectVersion,
  getCompatibility,
  getMode,
  getSchemaById,
  getSubjectVersion,
  listSubjects,
  listVersions,
  lookUpSchema,
  referencedBy,
  registerSchema,
  setCompatibility,
  setMode,
  subjectsOfSchema,
  testCompatibility,
  versionsOfSchema,
  type SchemaRequest,
} from "./api.ts";
import { clearRegistryCaches } from "./cache.ts";
import { isRegistryError } from "./errors.ts";
import { insertVersion, storeSchema } from "./store.ts";
import { lockSubject } from "./subjects.ts";

/** A closed JSON object schema with these string-or-typed properties. */
function json(properties: Record<string, string>, extra: Record<string, unknown> = {}): SchemaRequest {
  const props = Object.fromEntries(Object.entries(properties).map(([k, type]) => [k, { type }]));
  return { schemaType: "JSON", schema: JSON.stringify({ type: "object", properties: props, additionalProperties: false, ...extra }) };
}

function avro(fields: Array<Record<string, unknown>>): SchemaRequest {
  return { schema: JSON.stringify({ type: "record", name: "User", namespace: "test", fields }) };
}

async function registryCode(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
  } catch (error) {
    if (isRegistryError(error)) return error.errorCode;
    if (isMeshportError(error)) return error.kind;
    throw error;
  }
  throw new Error("expected a failure");
}

async function registryMessage(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error.message;
  }
  throw new Error("expected a failure");
}

describeEachBackend("schema registry service", ({ backend, handle }) => {
  let admin: Principal;
  let editor: Principal;
  let loner: Principal;
  let commerce: Team;
  let logistics: Team;
  let commerceToken: Principal;
  let logisticsToken: Principal;
  let viewerToken: Principal;

  const db = () => handle().db;
  const rows = async () => {
    const [s] = await db().select({ n: count() }).from(registrySchema);
    const [v] = await db().select({ n: count() }).from(registrySubjectVersion);
    return { schemas: s!.n, versions: v!.n };
  };
  const audits = async (action: string, subject: string) =>
    db()
      .select()
      .from(auditEntry)
      .where(and(eq(auditEntry.action, action), sql`${auditEntry.details}->>'subject' = ${subject}`));

  beforeAll(async () => {
    clearRegistryCaches();
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: a.id, email: a.email, name: a.name, role: "admin" };
    commerce = await createTeam(admin, { slug: "commerce", name: "Commerce" });
    logistics = await createTeam(admin, { slug: "logistics", name: "Logistics" });
    const e = await createUser(admin, { name: "Eddie", email: "eddie@example.com", password: "correct horse battery", role: "editor" });
    editor = { kind: "user", id: e.id, email: e.email, name: e.name, role: "editor" };
    await setTeamMember(admin, "commerce", { email: e.email });
    const l = await createUser(admin, { name: "Lone", email: "lone@example.com", password: "correct horse battery", role: "editor" });
    loner = { kind: "user", id: l.id, email: l.email, name: l.name, role: "editor" };
    const token = (name: string, scopes: Array<"read" | "contracts:write">, teamId: string | null): Principal => ({
      kind: "token",
      id: `tok_${name}`,
      name,
      scopes,
      teamId,
      createdBy: a.id,
    });
    commerceToken = token("commerce-ci", ["contracts:write"], commerce.id);
    logisticsToken = token("logistics-ci", ["contracts:write"], logistics.id);
    viewerToken = token("viewer", ["read"], commerce.id);
  });

  describe("registration", () => {
    it("gives a new schema a global id and version 1, and the same schema the same id in every subject", async () => {
      const first = await registerSchema(commerceToken, "orders-value", json({ id: "string" }), {});
      expect(first.id).toBeGreaterThan(0);
      const again = await registerSchema(commerceToken, "orders-copy", json({ id: "string" }), {});
      expect(again.id).toBe(first.id);
      expect(await listVersions(viewerToken, "orders-value", {})).toEqual([1]);
      const view = await getSubjectVersion(viewerToken, "orders-value", 1, {});
      expect(view).toMatchObject({ subject: "orders-value", id: first.id, version: 1, schemaType: "JSON" });
      expect(view.references).toBeUndefined();
      expect(JSON.parse(view.schema)).toEqual(JSON.parse(json({ id: "string" }).schema));
      expect(await subjectsOfSchema(viewerToken, first.id, {})).toEqual(["orders-copy", "orders-value"]);
      expect(await versionsOfSchema(viewerToken, first.id, { subject: "orders-value" })).toEqual([{ subject: "orders-value", version: 1 }]);
      const [subject] = await db().select().from(registrySubject).where(eq(registrySubject.name, "orders-value"));
      expect(subject?.teamId).toBe(commerce.id);
      const entries = await audits("registry.schema.register", "orders-value");
      expect(entries).toHaveLength(1);
      expect(entries[0]!.details).toMatchObject({ subject: "orders-value", version: 1, id: first.id, schemaType: "JSON", compatibility: "BACKWARD" });
    });

    it("returns the id of a schema the subject already holds, with no new version and no audit entry", async () => {
      const before = await rows();
      const { id } = await registerSchema(commerceToken, "orders-value", json({ id: "string" }), {});
      expect(await rows()).toEqual(before);
      expect(id).toBe((await getSubjectVersion(viewerToken, "orders-value", "latest", {})).id);
      expect(await audits("registry.schema.register", "orders-value")).toHaveLength(1);
    });

    it("refuses an invalid schema with 42201 and stores nothing", async () => {
      const before = await rows();
      expect(await registryCode(registerSchema(commerceToken, "orders-value", { schemaType: "JSON", schema: "{not json" }, {}))).toBe(42201);
      expect(await registryCode(registerSchema(commerceToken, "broken", { schema: '{"type":"recordz"}' }, {}))).toBe(42201);
      expect(await registryCode(registerSchema(commerceToken, "broken", { schemaType: "XML" as never, schema: "<a/>" }, {}))).toBe(42201);
      expect(await registryCode(registerSchema(commerceToken, "broken", { schemaType: "JSON", schema: "x".repeat(1024 * 1024 + 1) }, {}))).toBe(42201);
      expect(await rows()).toEqual(before);
      expect(await registryCode(listVersions(viewerToken, "broken", {}))).toBe(40401);
    });

    it("refuses bad subject names with 42208", async () => {
      expect(await registryCode(registerSchema(commerceToken, "", json({ a: "string" }), {}))).toBe(42208);
      expect(await registryCode(registerSchema(commerceToken, "x".repeat(256), json({ a: "string" }), {}))).toBe(42208);
      expect(await registryCode(registerSchema(commerceToken, "bad\nname", json({ a: "string" }), {}))).toBe(42208);
    });

    it("refuses an incompatible schema with Confluent's 409 message and stores nothing", async () => {
      const before = await rows();
      const message = await registryMessage(registerSchema(commerceToken, "orders-value", json({ id: "integer" }), {}));
      expect(message).toMatch(/^Schema being registered is incompatible with an earlier schema for subject "orders-value", details: \[/);
      expect(await registryCode(registerSchema(commerceToken, "orders-value", json({ id: "integer" }), {}))).toBe(409);
      expect(await rows()).toEqual(before);
      expect(await listVersions(viewerToken, "orders-value", {})).toEqual([1]);
    });

    it("applies each compatibility level (JSON)", async () => {
      // BACKWARD: a new reader reads old data. Adding an optional property to a closed object is backward-only.
      const cases: Array<[string, boolean]> = [
        ["NONE", true],
        ["BACKWARD", true],
        ["FORWARD", false],
        ["FULL", false],
        ["BACKWARD_TRANSITIVE", true],
        ["FORWARD_TRANSITIVE", false],
        ["FULL_TRANSITIVE", false],
      ];
      for (const [level, accepted] of cases) {
        const subject = `levels-${level.toLowerCase()}`;
        await registerSchema(commerceToken, subject, json({ a: "string" }), {});
        await setCompatibility(commerceToken, subject, level.toLowerCase());
        const outcome = registerSchema(commerceToken, subject, json({ a: "string", b: "string" }), {});
        if (accepted) await outcome;
        else expect(await registryCode(outcome), level).toBe(409);
        expect(await listVersions(viewerToken, subject, {}), level).toEqual(accepted ? [1, 2] : [1]);
      }
      // Removing a property from a closed object: forward-only.
      await registerSchema(commerceToken, "levels-forward", json({}), {});
      expect(await listVersions(viewerToken, "levels-forward", {})).toEqual([1, 2]);
    });

    it("checks every earlier version under a transitive level, the latest only otherwise", async () => {
      const s = "transitive";
      await registerSchema(commerceToken, s, json({ a: "string", b: "string" }), {});
      await setCompatibility(commerceToken, s, "NONE");
      await registerSchema(commerceToken, s, json({ a: "string" }), {});
      await setCompatibility(commerceToken, s, "BACKWARD");
      const candidate = json({ a: "string", b: "number" });
      expect(await testCompatibility(viewerToken, s, null, candidate, {})).toEqual({ is_compatible: true });
      expect(await testCompatibility(viewerToken, s, 1, candidate, {})).toEqual({ is_compatible: false });
      await setCompatibility(commerceToken, s, "BACKWARD_TRANSITIVE");
      const verdict = await testCompatibility(viewerToken, s, null, candidate, { verbose: true });
      expect(verdict.is_compatible).toBe(false);
      expect(verdict.messages!.length).toBeGreaterThan(0);
      expect(await registryCode(registerSchema(commerceToken, s, candidate, {}))).toBe(409);
      await setCompatibility(commerceToken, s, "BACKWARD");
      await registerSchema(commerceToken, s, candidate, {});
      expect(await listVersions(viewerToken, s, {})).toEqual([1, 2, 3]);
    });

    it("applies Avro schema resolution", async () => {
      const s = "users-value";
      const { id } = await registerSchema(commerceToken, s, avro([{ name: "id", type: "string" }]), {});
      const served = await getSchemaById(viewerToken, id, {});
      expect(served.schemaType).toBeUndefined();
      expect(JSON.parse(served.schema)).toMatchObject({ type: "record", fields: [{ name: "id", type: "string" }] });
      expect(await registryCode(registerSchema(commerceToken, s, avro([{ name: "id", type: "string" }, { name: "age", type: "int" }]), {}))).toBe(409);
      await registerSchema(commerceToken, s, avro([{ name: "id", type: "string" }, { name: "age", type: "int", default: 0 }]), {});
      expect(await listVersions(viewerToken, s, {})).toEqual([1, 2]);
      const found = await lookUpSchema(viewerToken, s, avro([{ name: "id", type: "string" }]), {});
      expect(found).toMatchObject({ subject: s, version: 1, id });
    });

    it("keeps at most 1,000 live versions per subject (42205), and looks a schema up by its hash", async () => {
      await setCompatibility(commerceToken, "crowded-value", "NONE");
      const { id } = await registerSchema(commerceToken, "crowded-value", json({ n0: "string" }), {});
      const [subject] = await db().select().from(registrySubject).where(eq(registrySubject.name, "crowded-value"));
      await db()
        .insert(registrySubjectVersion)
        .values(Array.from({ length: 999 }, (_, i) => ({ subjectId: subject!.id, version: i + 2, schemaId: id, compatibility: "NONE", registeredByLabel: "test" })));
      const before = await rows();
      expect(await registryMessage(registerSchema(commerceToken, "crowded-value", json({ n1: "string" }), {}))).toContain("1000 live versions");
      expect(await registryCode(registerSchema(commerceToken, "crowded-value", json({ n1: "string" }), {}))).toBe(42205);
      expect(await rows()).toEqual(before);
      // The schema it already holds is still found (the oldest version holding it), and its text served.
      expect(await registerSchema(commerceToken, "crowded-value", json({ n0: "string" }), {})).toEqual({ id });
      expect(await lookUpSchema(viewerToken, "crowded-value", json({ n0: "string" }), {})).toMatchObject({ version: 1, id });
      expect(JSON.parse((await getSubjectVersion(viewerToken, "crowded-value", 1000, {})).schema)).toEqual(JSON.parse(json({ n0: "string" }).schema));
      await deleteSubjectVersion(commerceToken, "crowded-value", 1, {});
      expect(await lookUpSchema(viewerToken, "crowded-value", json({ n0: "string" }), {})).toMatchObject({ version: 2, id });
      expect(await lookUpSchema(viewerToken, "crowded-value", json({ n0: "string" }), { deleted: true })).toMatchObject({ version: 2, id });
      expect((await registerSchema(commerceToken, "crowded-value", json({ n1: "string" }), {})).id).not.toBe(id);
    });

    it("stores the schema row before taking the subject's lock, as a contract publish does (no deadlock between them)", async () => {
      if (backend !== "postgres") return;
      let release!: () => void;
      let locked!: () => void;
      const held = new Promise<void>((resolve) => (locked = resolve));
      const holder = db().transaction(async (tx) => {
        await lockSubject(tx, "ordered-value");
        locked();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await held;
      const registering = registerSchema(commerceToken, "ordered-value", json({ ordered: "string" }), {});
      try {
        // Wait until the registration queues on the subject's lock, then see what it already holds.
        let waiting: number | undefined;
        while (waiting === undefined) {
          const found = await db().execute(sql`select pid from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database()) limit 1`);
          const list = (Array.isArray(found) ? found : (found as { rows: unknown[] }).rows) as Array<{ pid: number }>;
          waiting = list[0]?.pid;
          if (waiting === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const inserted = await db().execute(
          sql`select 1 as one from pg_locks l join pg_class c on c.oid = l.relation where l.pid = ${waiting} and c.relname = 'schema' and l.mode = 'RowExclusiveLock'`,
        );
        const insertedRows = Array.isArray(inserted) ? inserted : (inserted as { rows: unknown[] }).rows;
        expect(insertedRows).toHaveLength(1);
      } finally {
        release();
        await holder;
      }
      expect((await registering).id).toBeGreaterThan(0);
    });

    it("refuses a registration after storing its schema and keeps nothing of it", async () => {
      await setCompatibility(commerceToken, "rollback-value", "FULL_TRANSITIVE");
      await registerSchema(commerceToken, "rollback-value", json({ a: "string" }), {});
      const before = await rows();
      const fresh = json({ a: "integer", brandNew: "string" });
      expect(await registryCode(registerSchema(commerceToken, "rollback-value", fresh, {}))).toBe(409);
      expect(await rows()).toEqual(before);
      const hash = (parseSchema({ schemaType: "JSON", schema: fresh.schema, references: [] }) as { ok: true; schema: { hash: string } }).schema.hash;
      expect(await db().select().from(registrySchema).where(eq(registrySchema.hash, hash))).toEqual([]);
    });

    it("gives concurrent registrations of different schemas to one subject distinct consecutive versions", async () => {
      const s = "concurrent";
      await registerSchema(commerceToken, s, json({ p0: "string" }), {});
      await setCompatibility(commerceToken, s, "NONE");
      const ids = await Promise.all([1, 2, 3, 4, 5].map((i) => registerSchema(commerceToken, s, json({ [`p${i}`]: "string" }), {})));
      expect(new Set(ids.map((r) => r.id)).size).toBe(5);
      expect(await listVersions(viewerToken, s, {})).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  describe("reads", () => {
    it("lists subjects sorted, by prefix with LIKE characters taken literally, and hides configured-only subjects", async () => {
      await registerSchema(commerceToken, "pre_fix-a", json({ a: "string" }), {});
      await registerSchema(commerceToken, "preXfix-b", json({ a: "string" }), {});
      await setCompatibility(commerceToken, "pre_fix-config-only", "NONE");
      expect(await listSubjects(viewerToken, { prefix: "pre_" })).toEqual(["pre_fix-a"]);
      // Byte order: "X" (0x58) before "_" (0x5f), whatever the database's collation.
      expect(await listSubjects(viewerToken, { prefix: "pre" })).toEqual(["preXfix-b", "pre_fix-a"]);
      expect(await listSubjects(viewerToken, { prefix: "%" })).toEqual([]);
      const all = await listSubjects(viewerToken, {});
      expect(all).toEqual([...all].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect(all).toContain("orders-value");
      expect(all).not.toContain("pre_fix-config-only");
    });

    it("answers Confluent's not-found and invalid-version codes", async () => {
      expect(await registryCode(getSubjectVersion(viewerToken, "nope", 1, {}))).toBe(40401);
      expect(await registryCode(getSubjectVersion(viewerToken, "orders-value", 9, {}))).toBe(40402);
      expect(await registryCode(getSubjectVersion(viewerToken, "orders-value", 0, {}))).toBe(42202);
      expect(await registryCode(getSubjectVersion(viewerToken, "orders-value", 2 ** 31, {}))).toBe(42202);
      expect(await registryCode(getSubjectVersion(viewerToken, "orders-value", 1.5, {}))).toBe(42202);
      expect((await getSubjectVersion(viewerToken, "orders-value", -1, {})).version).toBe(1);
      expect(await registryCode(getSchemaById(viewerToken, 999_999, {}))).toBe(40403);
      expect(await registryMessage(getSchemaById(viewerToken, 999_999, {}))).toBe("Schema 999999 not found");
      expect(await registryCode(getSchemaById(viewerToken, -3, {}))).toBe(40403);
      expect(await registryCode(lookUpSchema(viewerToken, "nope", json({ a: "string" }), {}))).toBe(40401);
      expect(await registryCode(lookUpSchema(viewerToken, "orders-value", json({ zzz: "string" }), {}))).toBe(40403);
      expect(await registryCode(versionsOfSchema(viewerToken, 999_999, {}))).toBe(40403);
      expect(await registryCode(testCompatibility(viewerToken, "nope", 1, json({ a: "string" }), {}))).toBe(40401);
      expect(await registryCode(testCompatibility(viewerToken, "orders-value", 7, json({ a: "string" }), {}))).toBe(40402);
      expect(await testCompatibility(viewerToken, "nope", null, json({ a: "string" }), {})).toEqual({ is_compatible: true });
    });

    it("serves an id whatever `subject` a serializer sends, and from the cache without the database", async () => {
      const { id } = await registerSchema(commerceToken, "cached-value", json({ c: "string" }), {});
      const first = await getSchemaById(viewerToken, id, { subject: "cached-value" });
      // Clients name the subject by their own strategy: one that does not hold the id, or none at all, still gets it.
      clearRegistryCaches();
      expect(await getSchemaById(viewerToken, id, { subject: "orders-value" })).toEqual(first);
      expect(await getSchemaById(viewerToken, id, { subject: "no-such-subject" })).toEqual(first);
      expect(await getSchemaById(viewerToken, id, { subject: "x".repeat(300) })).toEqual(first);
      const real = handle();
      const refuse = (): never => {
        throw new Error("the database was used");
      };
      const offline: DatabaseHandle = { driver: real.driver, db: new Proxy({}, { get: refuse }) as DatabaseHandle["db"], migrate: refuse, close: refuse };
      setDatabaseHandle(offline);
      try {
        expect(await getSchemaById(viewerToken, id, {})).toEqual(first);
        expect(await getSchemaById(viewerToken, id, { subject: "cached-value" })).toEqual(first);
        expect(await getSchemaById(viewerToken, id, { subject: "elsewhere" })).toEqual(first);
      } finally {
        setDatabaseHandle(real);
      }
    });

    it("serves Protobuf as Confluent's Protobuf serializers send it: a base64 FileDescriptorProto, the same id as the .proto text", async () => {
      const proto = 'syntax = "proto3";\npackage demo.plant;\n\nmessage Reading {\n  string line_id = 1;\n  double value = 2;\n}\n';
      const { id } = await registerSchema(commerceToken, "readings-value", { schemaType: "PROTOBUF", schema: proto }, {});
      const text = await getSchemaById(viewerToken, id, {});
      expect(text).toMatchObject({ schemaType: "PROTOBUF" });
      expect(text.schema).toContain("message Reading");
      const serialized = await getSchemaById(viewerToken, id, { format: "serialized" });
      expect(serialized.schema).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(serialized.schema).not.toBe(text.schema);
      // What the Python serializer registers; the cache still answers the text form afterwards.
      expect(await registerSchema(commerceToken, "readings-copy-value", { schemaType: "PROTOBUF", schema: serialized.schema }, {})).toEqual({ id });
      expect((await getSchemaById(viewerToken, id, {})).schema).toBe(text.schema);
      // Other types ignore the format.
      const avroId = (await registerSchema(commerceToken, "plain-value", { schema: '"string"' }, {})).id;
      expect((await getSchemaById(viewerToken, avroId, { format: "serialized" })).schema).toBe('"string"');
    });

    it("needs read permission", async () => {
      const nobody: Principal = { kind: "token", id: "tok_agent", name: "agent", scopes: ["agent:report"], teamId: null, createdBy: null };
      const none: Principal = { kind: "token", id: "tok_none", name: "none", scopes: [], teamId: null, createdBy: null };
      expect(await registryCode(listSubjects(none, {}))).toBe("forbidden");
      expect(await registryCode(getSchemaById(none, 1, {}))).toBe("forbidden");
      expect(Array.isArray(await listSubjects(nobody, {}))).toBe(true);
    });
  });

  describe("permissions", () => {
    it("refuses a viewer token, another team's token, and a user without exactly one team", async () => {
      const before = await rows();
      expect(await registryCode(registerSchema(viewerToken, "orders-value", json({ id: "string", x: "string" }), {}))).toBe("forbidden");
      expect(await registryCode(registerSchema(logisticsToken, "orders-value", json({ id: "string", x: "string" }), {}))).toBe("forbidden");
      expect(await registryCode(deleteSubject(logisticsToken, "orders-value", {}))).toBe("forbidden");
      expect(await registryCode(setCompatibility(logisticsToken, "orders-value", "NONE"))).toBe("forbidden");
      expect(await registryCode(registerSchema(loner, "loner-value", json({ a: "string" }), {}))).toBe("forbidden");
      expect(await rows()).toEqual(before);
    });

    it("gives a new subject its creator's team: a member's one team, none for an admin", async () => {
      await registerSchema(editor, "editor-value", json({ a: "string" }), {});
      await registerSchema(admin, "admin-value", json({ a: "string" }), {});
      const [e] = await db().select().from(registrySubject).where(eq(registrySubject.name, "editor-value"));
      const [a] = await db().select().from(registrySubject).where(eq(registrySubject.name, "admin-value"));
      expect(e?.teamId).toBe(commerce.id);
      expect(a?.teamId).toBeNull();
      expect(await registryCode(registerSchema(commerceToken, "admin-value", json({ a: "string", b: "string" }), {}))).toBe("forbidden");
      await registerSchema(commerceToken, "editor-value", json({ a: "string", b: "string" }), {});
    });

    it("keeps the registry-wide config to admins", async () => {
      expect(await registryCode(setCompatibility(commerceToken, null, "NONE"))).toBe("forbidden");
      expect(await registryCode(setMode(commerceToken, null, "READONLY", {}))).toBe("forbidden");
      expect(await registryCode(deleteCompatibility(editor, null))).toBe("forbidden");
    });
  });

  describe("governed subjects", () => {
    let governedId: number;
    beforeAll(async () => {
      const app = await createApplication(admin, { slug: "orders", name: "Orders", team: "commerce" });
      const parsed = parseSchema({ schemaType: "JSON", schema: json({ order: "string" }).schema, references: [] });
      if (!parsed.ok) throw new Error(parsed.message);
      await db().transaction(async (tx) => {
        governedId = await storeSchema(tx, parsed.schema);
        await tx.insert(registrySubject).values({ id: "subj_gov", name: "orders.created", governed: true, applicationId: app.id });
        await insertVersion(tx, { subjectId: "subj_gov", version: 1, schemaId: governedId, compatibility: "BACKWARD", registeredByLabel: "contract" });
      });
    });

    it("takes a registration only of one of its versions, and names the contract otherwise", async () => {
      expect(await registerSchema(commerceToken, "orders.created", json({ order: "string" }), {})).toEqual({ id: governedId });
      const message = await registryMessage(registerSchema(commerceToken, "orders.created", json({ order: "string", more: "string" }), {}));
      expect(message).toBe(
        "Subject 'orders.created' is governed by the contract of application 'orders' (team 'commerce'); propose the change there: /catalog/orders/publish",
      );
      expect(await registryCode(registerSchema(commerceToken, "orders.created", json({ order: "string", more: "string" }), {}))).toBe(409);
      expect(await registryCode(registerSchema(logisticsToken, "orders.created", json({ order: "string" }), {}))).toBe("forbidden");
      expect(await listVersions(viewerToken, "orders.created", {})).toEqual([1]);
    });

    it("cannot be deleted over the API", async () => {
      expect(await registryCode(deleteSubject(commerceToken, "orders.created", {}))).toBe(42205);
      expect(await registryCode(deleteSubjectVersion(commerceToken, "orders.created", 1, {}))).toBe(42205);
    });

    it("inherits its application's level, which counts as configured: the contract configures it", async () => {
      await db().execute(sql`update application set compatibility_mode = 'FULL' where slug = 'orders'`);
      expect(await getCompatibility(viewerToken, "orders.created", { defaultToGlobal: true })).toEqual({ compatibilityLevel: "FULL" });
      // A serializer that found "not configured" would write its own default as an override of the contract's level.
      expect(await getCompatibility(viewerToken, "orders.created", {})).toEqual({ compatibilityLevel: "FULL" });
    });
  });

  describe("references", () => {
    let addressId: number;
    let personId: number;
    it("stores and resolves references, and answers referencedby", async () => {
      addressId = (await registerSchema(commerceToken, "address", json({ city: "string" }), {})).id;
      const person: SchemaRequest = {
        schemaType: "JSON",
        schema: JSON.stringify({ type: "object", properties: { home: { $ref: "address.json" } } }),
        references: [{ name: "address.json", subject: "address", version: 1 }],
      };
      personId = (await registerSchema(commerceToken, "person", person, {})).id;
      expect(personId).not.toBe(addressId);
      const view = await getSubjectVersion(viewerToken, "person", 1, {});
      expect(view.references).toEqual([{ name: "address.json", subject: "address", version: 1 }]);
      expect((await getSchemaById(viewerToken, personId, {})).references).toEqual([{ name: "address.json", subject: "address", version: 1 }]);
      const refRows = await db().select().from(registrySchemaReference).where(eq(registrySchemaReference.schemaId, personId));
      expect(refRows).toMatchObject([{ position: 0, name: "address.json", subject: "address", version: 1 }]);
      expect(await referencedBy(viewerToken, "address", 1)).toEqual([personId]);
      expect(await referencedBy(viewerToken, "address", "latest")).toEqual([personId]);
      // The same text with another reference is another schema.
      expect(await registryCode(registerSchema(commerceToken, "person2", { ...person, references: [{ name: "address.json", subject: "address", version: 2 }] }, {}))).toBe(42201);
      expect(await registryCode(registerSchema(commerceToken, "person2", { ...person, references: [{ name: "address.json", subject: "nowhere", version: 1 }] }, {}))).toBe(42201);
    });

    it("refuses to delete a referenced version (42206)", async () => {
      expect(await registryCode(deleteSubjectVersion(commerceToken, "address", 1, {}))).toBe(42206);
      expect(await registryCode(deleteSubject(commerceToken, "address", {}))).toBe(42206);
      // A soft-deleted referrer no longer holds a soft delete back; a permanent delete waits until it is gone for good.
      await deleteSubject(commerceToken, "person", {});
      expect(await deleteSubject(commerceToken, "address", {})).toEqual([1]);
      expect(await registryCode(deleteSubject(commerceToken, "address", { permanent: true }))).toBe(42206);
      await deleteSubject(commerceToken, "person", { permanent: true });
      expect(await deleteSubject(commerceToken, "address", { permanent: true })).toEqual([1]);
    });
  });

  describe("deletes", () => {
    it("soft-deletes a subject, then permanently, with Confluent's codes", async () => {
      const s = "doomed";
      const { id } = await registerSchema(commerceToken, s, json({ d: "string" }), {});
      await setCompatibility(commerceToken, s, "NONE");
      await registerSchema(commerceToken, s, json({ d: "integer" }), {});
      expect(await registryCode(deleteSubject(commerceToken, s, { permanent: true }))).toBe(40405);
      expect(await deleteSubject(commerceToken, s, {})).toEqual([1, 2]);
      expect(await registryCode(deleteSubject(commerceToken, s, {}))).toBe(40404);
      expect(await registryCode(listVersions(viewerToken, s, {}))).toBe(40401);
      expect(await listVersions(viewerToken, s, { deleted: true })).toEqual([1, 2]);
      expect(await listSubjects(viewerToken, {})).not.toContain(s);
      expect(await listSubjects(viewerToken, { deleted: true })).toContain(s);
      expect(await listSubjects(viewerToken, { deletedOnly: true })).toContain(s);
      expect(await listSubjects(viewerToken, { deletedOnly: true })).not.toContain("orders-value");
      expect((await getSubjectVersion(viewerToken, s, 1, { deleted: true })).id).toBe(id);
      // A soft-deleted version is still served by id.
      expect((await getSchemaById(viewerToken, id, {})).schema).toContain('"d"');
      const entries = await audits("registry.subject.delete", s);
      expect(entries.at(-1)!.details).toMatchObject({ subject: s, versions: [1, 2], permanent: false });
      expect(await deleteSubject(commerceToken, s, { permanent: true })).toEqual([1, 2]);
      expect(await registryCode(deleteSubject(commerceToken, s, {}))).toBe(40401);
      expect(await registryCode(listVersions(viewerToken, s, { deleted: true }))).toBe(40401);
      expect(await registryCode(getSchemaById(viewerToken, id, {}))).toBe(40403);
      expect((await audits("registry.subject.delete", s)).at(-1)!.details).toMatchObject({ permanent: true });
    });

    it("takes registrations again after a soft delete, numbering past the old versions", async () => {
      const s = "revived";
      await registerSchema(commerceToken, s, json({ r: "string" }), {});
      await deleteSubject(commerceToken, s, {});
      await registerSchema(commerceToken, s, json({ r: "string" }), {});
      expect(await listVersions(viewerToken, s, {})).toEqual([2]);
      expect(await listVersions(viewerToken, s, { deleted: true })).toEqual([1, 2]);
    });

    it("deletes versions soft, then permanently, with Confluent's codes", async () => {
      const s = "versions";
      await registerSchema(commerceToken, s, json({ v: "string" }), {});
      await setCompatibility(commerceToken, s, "NONE");
      await registerSchema(commerceToken, s, json({ v: "integer" }), {});
      await registerSchema(commerceToken, s, json({ v: "boolean" }), {});
      expect(await registryCode(deleteSubjectVersion(commerceToken, s, 2, { permanent: true }))).toBe(40407);
      expect(await deleteSubjectVersion(commerceToken, s, 2, {})).toBe(2);
      expect(await registryCode(deleteSubjectVersion(commerceToken, s, 2, {}))).toBe(40406);
      expect(await registryCode(deleteSubjectVersion(commerceToken, s, 9, {}))).toBe(40402);
      expect(await registryCode(deleteSubjectVersion(commerceToken, s, "x" as never, {}))).toBe(42202);
      expect(await listVersions(viewerToken, s, {})).toEqual([1, 3]);
      expect(await deleteSubjectVersion(commerceToken, s, "latest", {})).toBe(3);
      expect((await getSubjectVersion(viewerToken, s, "latest", {})).version).toBe(1);
      expect(await deleteSubjectVersion(commerceToken, s, 2, { permanent: true })).toBe(2);
      expect(await listVersions(viewerToken, s, { deleted: true })).toEqual([1, 3]);
      // Version numbers are not reused while rows remain.
      await registerSchema(commerceToken, s, json({ v: "number" }), {});
      expect(await listVersions(viewerToken, s, {})).toEqual([1, 4]);
      const entries = await audits("registry.version.delete", s);
      expect(entries.map((e) => e.details)).toEqual([
        expect.objectContaining({ subject: s, versions: [2], permanent: false }),
        expect.objectContaining({ subject: s, versions: [3], permanent: false }),
        expect.objectContaining({ subject: s, versions: [2], permanent: true }),
      ]);
    });
  });

  describe("config and mode", () => {
    it("reads and sets levels case-insensitively, per subject and registry-wide", async () => {
      expect(await getCompatibility(viewerToken, null, {})).toEqual({ compatibilityLevel: "BACKWARD" });
      expect(await registryCode(setCompatibility(admin, null, "sideways"))).toBe(42203);
      expect(await setCompatibility(admin, null, "full")).toEqual({ compatibility: "FULL" });
      expect(await getCompatibility(viewerToken, null, {})).toEqual({ compatibilityLevel: "FULL" });
      expect(await registryCode(getCompatibility(viewerToken, "orders-value", {}))).toBe(40408);
      expect(await getCompatibility(viewerToken, "orders-value", { defaultToGlobal: true })).toEqual({ compatibilityLevel: "FULL" });
      expect(await getCompatibility(viewerToken, "never-seen", { defaultToGlobal: true })).toEqual({ compatibilityLevel: "FULL" });
      expect(await registryCode(getCompatibility(viewerToken, "never-seen", {}))).toBe(40408);
      expect(await setCompatibility(commerceToken, "orders-value", "forward_transitive")).toEqual({ compatibility: "FORWARD_TRANSITIVE" });
      expect(await getCompatibility(viewerToken, "orders-value", {})).toEqual({ compatibilityLevel: "FORWARD_TRANSITIVE" });
      expect(await deleteCompatibility(commerceToken, "orders-value")).toEqual({ compatibilityLevel: "FORWARD_TRANSITIVE" });
      expect(await registryCode(deleteCompatibility(commerceToken, "orders-value"))).toBe(40408);
      expect(await registryCode(deleteCompatibility(commerceToken, "never-seen"))).toBe(40401);
      expect(await deleteCompatibility(admin, null)).toEqual({ compatibilityLevel: "FULL" });
      expect(await getCompatibility(viewerToken, null, {})).toEqual({ compatibilityLevel: "BACKWARD" });
      const [entry] = (await db().select().from(auditEntry).where(eq(auditEntry.action, "registry.config.set"))).filter(
        (e) => (e.details as Record<string, unknown>).scope === "global",
      );
      expect(entry?.details).toMatchObject({ before: null, after: "FULL" });
      const subjectEntries = await audits("registry.config.delete", "orders-value");
      expect(subjectEntries[0]!.details).toMatchObject({ before: "FORWARD_TRANSITIVE", after: null });
    });

    it("keeps config for a subject before its first schema", async () => {
      await setCompatibility(commerceToken, "early", "NONE");
      expect(await getCompatibility(viewerToken, "early", {})).toEqual({ compatibilityLevel: "NONE" });
      expect(await listSubjects(viewerToken, {})).not.toContain("early");
      expect(await registryCode(listVersions(viewerToken, "early", {}))).toBe(40401);
      await registerSchema(commerceToken, "early", json({ e: "string" }), {});
      await registerSchema(commerceToken, "early", json({ e: "integer" }), {});
      expect(await listVersions(viewerToken, "early", {})).toEqual([1, 2]);
    });

    it("refuses writes in READONLY mode", async () => {
      expect(await registryCode(setMode(commerceToken, "orders-value", "sleepy", {}))).toBe(42204);
      expect(await setMode(commerceToken, "orders-value", "readonly", {})).toEqual({ mode: "READONLY" });
      expect(await getMode(viewerToken, "orders-value", {})).toEqual({ mode: "READONLY" });
      const before = await rows();
      expect(await registryMessage(registerSchema(commerceToken, "orders-value", json({ id: "string", n: "string" }), {}))).toBe(
        "Subject orders-value is in read-only mode",
      );
      expect(await registryCode(deleteSubject(commerceToken, "orders-value", {}))).toBe(42205);
      expect(await rows()).toEqual(before);
      expect(await deleteMode(commerceToken, "orders-value")).toEqual({ mode: "READONLY" });
      expect(await registryCode(getMode(viewerToken, "orders-value", {}))).toBe(40409);
      expect(await getMode(viewerToken, "orders-value", { defaultToGlobal: true })).toEqual({ mode: "READWRITE" });

      await setMode(admin, null, "READONLY", {});
      expect(await registryCode(registerSchema(commerceToken, "orders-value", json({ id: "string", n: "string" }), {}))).toBe(42205);
      await setMode(admin, null, "READWRITE", {});
      expect(await getMode(viewerToken, null, {})).toEqual({ mode: "READWRITE" });
      const modeEntries = await audits("registry.mode.set", "orders-value");
      expect(modeEntries[0]!.details).toMatchObject({ before: null, after: "READONLY" });
    });

    it("imports schemas under given ids and versions in IMPORT mode", async () => {
      expect(await registryCode(setMode(admin, null, "IMPORT", {}))).toBe(42205);
      expect(await registryCode(registerSchema(admin, "orders-value", { ...json({ z: "string" }), id: 7000 }, {}))).toBe(42205);
      expect(await registryCode(setMode(admin, "orders-value", "IMPORT", {}))).toBe(42205);
      // Importing is an admin's: a team may not choose global ids, nor force a mode.
      const before = await rows();
      expect(await registryCode(registerSchema(commerceToken, "orders-value", { ...json({ z: "string" }), id: 7000 }, {}))).toBe("forbidden");
      expect(await registryCode(setMode(commerceToken, "orders-value", "IMPORT", {}))).toBe("forbidden");
      expect(await registryCode(setMode(commerceToken, "orders-value", "IMPORT", { force: true }))).toBe("forbidden");
      expect(await registryCode(setMode(commerceToken, "orders-value", "READONLY", { force: true }))).toBe("forbidden");
      expect(await registryCode(setMode(commerceToken, "fresh-import", "IMPORT", {}))).toBe("forbidden");
      expect(await rows()).toEqual(before);
      expect(await getMode(viewerToken, "orders-value", { defaultToGlobal: true })).toEqual({ mode: "READWRITE" });
      await setMode(admin, "imported", "IMPORT", {});
      expect(await registryCode(registerSchema(commerceToken, "imported", { ...json({ i: "string" }), id: 5000, version: 3 }, {}))).toBe("forbidden");
      expect(await registerSchema(admin, "imported", { ...json({ i: "string" }), id: 5000, version: 3 }, {})).toEqual({ id: 5000 });
      expect(await getSubjectVersion(viewerToken, "imported", 3, {})).toMatchObject({ id: 5000, version: 3 });
      expect((await getSchemaById(viewerToken, 5000, {})).schema).toContain('"i"');
      // An id that holds another schema, or a schema stored under another id, does not match.
      expect(await registryCode(registerSchema(admin, "imported", { ...json({ j: "string" }), id: 5000, version: 4 }, {}))).toBe(42207);
      const existing = (await getSubjectVersion(viewerToken, "orders-value", 1, {})).id;
      expect(await registryCode(registerSchema(admin, "imported", { ...json({ id: "string" }), id: 5001 }, {}))).toBe(42207);
      // No compatibility check in IMPORT mode.
      expect(await registerSchema(admin, "imported", { ...json({ i: "integer" }), id: 4000, version: 1 }, {})).toEqual({ id: 4000 });
      expect(await listVersions(viewerToken, "imported", {})).toEqual([1, 3]);
      await setMode(admin, "imported", "READWRITE", {});
      const next = await registerSchema(commerceToken, "after-import", json({ fresh: "string" }), {});
      expect(next.id).toBeGreaterThan(5000);
      expect(existing).toBeLessThan(5000);
      expect(await setMode(admin, null, "IMPORT", { force: true })).toEqual({ mode: "IMPORT" });
      await setMode(admin, null, "READWRITE", {});
    });
  });
});
