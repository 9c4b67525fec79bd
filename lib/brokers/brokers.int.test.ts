import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { auditEntry } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBridge, declareBroker, getBroker, listBridges, listBrokers, removeBridge } from "./brokers.ts";

describeEachBackend("brokers and bridges", ({ handle }) => {
  let admin: Principal;
  const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
  });

  it("declares brokers (admins), updates them on a second declaration, and audits each", async () => {
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU", url: "mqtt://plant-eu:1883" });
    const saved = await declareBroker(admin, { id: "plant-eu", name: "Plant Europe", url: "mqtt://plant-eu:1883" });
    expect(saved).toMatchObject({ id: "plant-eu", name: "Plant Europe", protocol: "mqtt" });
    await expect(declareBroker(reader, { id: "plant-xx", name: "X" })).rejects.toMatchObject({ status: 403, code: "forbidden" });
    await expect(declareBroker(admin, { id: "Plant EU!", name: "X" })).rejects.toMatchObject({ status: 422, code: "invalid_input" });
    await expect(declareBroker(admin, "not an object")).rejects.toMatchObject({ status: 422, code: "invalid_input" });
    const entries = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "broker.declare"));
    expect(entries.map((e) => e.targetId)).toEqual(["plant-eu", "plant-eu"]);
    expect((await listBrokers(reader)).map((b) => [b.id, b.status, b.topicCount])).toEqual([["plant-eu", "never", 0]]);
    await expect(getBroker(reader, "nowhere")).rejects.toMatchObject({ status: 404, code: "not_found:broker" });
  });

  it("declares bridges between known brokers only, with valid filters", async () => {
    await declareBroker(admin, { id: "plant-us", name: "Plant US", url: "mqtt://plant-us:1883" });
    const bridge = await declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "plant-us", topicFilter: "plant/#" });
    expect(bridge.direction).toBe("out");
    await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "plant-us", topicFilter: "plant/#" })).rejects.toMatchObject({ status: 409 });
    await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "plant-us", topicFilter: "plant/#/x" })).rejects.toMatchObject({ status: 422 });
    await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "nowhere", topicFilter: "a/+" })).rejects.toMatchObject({
      status: 422,
      details: { fieldErrors: { toBrokerId: ["No broker nowhere."] } },
    });
    await expect(declareBridge(reader, { fromBrokerId: "plant-us", toBrokerId: "plant-eu", topicFilter: "a/+" })).rejects.toMatchObject({ status: 403 });
    expect((await getBroker(admin, "plant-us")).bridges).toHaveLength(1);
    expect(await listBridges(reader)).toHaveLength(1);
  });

  it("removes a bridge once, and audits it", async () => {
    const [bridge] = await listBridges(admin);
    await expect(removeBridge(reader, bridge!.id)).rejects.toMatchObject({ status: 403 });
    await removeBridge(admin, bridge!.id);
    await expect(removeBridge(admin, bridge!.id)).rejects.toMatchObject({ status: 404, code: "not_found:bridge" });
    expect(await listBridges(admin)).toEqual([]);
    const [entry] = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "bridge.remove"));
    expect(entry).toMatchObject({ targetType: "bridge", targetId: bridge!.id, details: { from: "plant-eu", to: "plant-us", topicFilter: "plant/#" } });
  });
});
