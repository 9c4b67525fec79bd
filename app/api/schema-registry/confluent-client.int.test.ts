import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { startRegistryServer, type RouteServer } from "./testing.ts";

/*
 * A Confluent registry client, unchanged, against the registry API over real HTTP: what a producer's or a
 * consumer's serializer does at run time must work exactly as it does against Confluent's own registry.
 */

const readingV1 = {
  type: "record",
  name: "Reading",
  namespace: "plant.sensors",
  fields: [
    { name: "sensor", type: "string" },
    { name: "celsius", type: "double" },
  ],
};
// Adds a field with a default: a reader with v2 reads data written with v1 (BACKWARD).
const readingV2 = { ...readingV1, fields: [...readingV1.fields, { name: "unit", type: "string", default: "C" }] };
// Adds a field without a default: a v2 reader cannot read v1 data.
const readingBroken = { ...readingV1, fields: [...readingV1.fields, { name: "humidity", type: "double" }] };

const orderV1 = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: { id: { type: "string" }, total: { type: "number" } },
  required: ["id"],
  additionalProperties: false,
};
// A new required property: data written with v1 lacks it.
const orderBroken = { ...orderV1, properties: { ...orderV1.properties, currency: { type: "string" } }, required: ["id", "currency"] };

describeEachBackend("Schema registry API with a Confluent client", () => {
  let server: RouteServer & { registryUrl: string };
  let registry: SchemaRegistry;
  let readToken: string;

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    const admin: Principal = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    const adminToken = (await createToken(admin, { name: "registry-admin", scopes: ["admin"] })).secret;
    readToken = (await createToken(admin, { name: "registry-reader", scopes: ["read"] })).secret;
    server = await startRegistryServer();
    registry = new SchemaRegistry({ host: server.registryUrl, auth: { username: "meshport", password: adminToken }, retry: { retries: 0 } });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("registers an Avro schema, serves it by id, and round-trips a message through its serializer", async () => {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(readingV1) }, { subject: "plant.readings-value" });
    expect(Number.isInteger(id)).toBe(true);

    // A fresh client has no cache: everything below comes from the registry.
    const fresh = new SchemaRegistry({ host: server.registryUrl, auth: { username: "meshport", password: readToken }, retry: { retries: 0 } });
    expect(await fresh.getLatestSchemaId("plant.readings-value")).toBe(id);
    expect(await fresh.getRegistryId("plant.readings-value", 1)).toBe(id);
    expect(await fresh.getRegistryId("plant.readings-value", "latest")).toBe(id);
    const schema = await fresh.getSchema(id);
    expect(schema).toBeTruthy();

    const message = { sensor: "t-1", celsius: 21.5 };
    const encoded = await registry.encode(id, message);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await fresh.decode(encoded)).toEqual(message);

    // Registering the same schema again answers the same id.
    expect((await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(readingV1) }, { subject: "plant.readings-value" })).id).toBe(id);
  });

  it("refuses an incompatible Avro schema with the client's error, and accepts a compatible one as version 2", async () => {
    await expect(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(readingBroken) }, { subject: "plant.readings-value" }),
    ).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/incompatible/i) });

    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(readingV2) }, { subject: "plant.readings-value" });
    expect(await registry.getRegistryId("plant.readings-value", 2)).toBe(id);
    expect(await registry.getLatestSchemaId("plant.readings-value")).toBe(id);

    // Data written with v1 is still decoded, and v2 data round-trips.
    const v1 = (await registry.getRegistryId("plant.readings-value", 1)) as number;
    expect(await registry.decode(await registry.encode(v1, { sensor: "t-2", celsius: 3 }))).toEqual({ sensor: "t-2", celsius: 3 });
    expect(await registry.decode(await registry.encode(id, { sensor: "t-3", celsius: 4, unit: "K" }))).toEqual({ sensor: "t-3", celsius: 4, unit: "K" });
  });

  it("registers a JSON schema, encodes and decodes with it, and refuses an incompatible change", async () => {
    const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(orderV1) }, { subject: "orders-value" });
    const fresh = new SchemaRegistry({ host: server.registryUrl, auth: { username: "meshport", password: readToken }, retry: { retries: 0 } });
    expect(await fresh.getLatestSchemaId("orders-value")).toBe(id);
    const message = { id: "o-1", total: 12.5 };
    const encoded = await registry.encode(id, message);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await fresh.decode(encoded)).toEqual(message);
    // The serializer validates against the schema it fetched.
    await expect(registry.encode(id, { total: 1 })).rejects.toThrow();

    await expect(registry.register({ type: SchemaType.JSON, schema: JSON.stringify(orderBroken) }, { subject: "orders-value" })).rejects.toMatchObject({
      status: 409,
    });
    expect(await fresh.getLatestSchemaId("orders-value")).toBe(id);
  });

  it("follows the client's compatibility configuration: set on first registration, checked on later ones", async () => {
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify({ ...readingV1, name: "Loose" }) }, { subject: "loose-value", compatibility: COMPATIBILITY.NONE });
    const config = await fetch(`${server.registryUrl}/config/loose-value`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(await config.json()).toEqual({ compatibilityLevel: "NONE" });

    // Under NONE anything goes, even what BACKWARD refuses.
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ ...readingBroken, name: "Loose" }) },
      { subject: "loose-value", compatibility: COMPATIBILITY.NONE },
    );
    expect(await registry.getRegistryId("loose-value", 2)).toBe(id);

    // A client configured for another level than the subject's refuses before registering.
    await expect(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify({ ...readingV2, name: "Loose" }) }, { subject: "loose-value", compatibility: COMPATIBILITY.FULL }),
    ).rejects.toThrow(/Compatibility does not match the configuration \(FULL != NONE\)/);
    expect(await registry.getLatestSchemaId("loose-value")).toBe(id);
  });

  it("answers the client's 404 for unknown subjects and ids, and 401 to a wrong token", async () => {
    await expect(registry.getLatestSchemaId("no-such-subject")).rejects.toMatchObject({ status: 404 });
    await expect(registry.getSchema(2_000_000)).rejects.toMatchObject({ status: 404 });
    const stranger = new SchemaRegistry({ host: server.registryUrl, auth: { username: "meshport", password: "mpt_not-a-real-token" }, retry: { retries: 0 } });
    await expect(stranger.getLatestSchemaId("plant.readings-value")).rejects.toMatchObject({ status: 401, unauthorized: true });
  });
});
