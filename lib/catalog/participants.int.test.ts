import { beforeAll, expect, it } from "vitest";
import { getDb } from "@/db/client.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { NATS_DIALECT } from "@/registry/topics/index.ts";
import { participantsOf } from "./participants.ts";

function doc(title: string, address: string, action: "send" | "receive"): string {
  const params = [...address.matchAll(/\{([^}]+)\}/g)].map((m) => `${m[1]}: {}`);
  return [
    `asyncapi: 3.0.0`,
    `info: { title: ${title}, version: 1.0.0 }`,
    `channels:`,
    `  ch:`,
    `    address: '${address}'`,
    ...(params.length ? [`    parameters: { ${params.join(", ")} }`] : []),
    `    messages:`,
    `      m:`,
    `        payload: { type: object }`,
    `operations:`,
    `  op:`,
    `    action: ${action}`,
    `    channel: { $ref: '#/channels/ch' }`,
  ].join("\n") + "\n";
}

describeEachBackend("participants of a broker's addresses, in the broker's syntax", () => {
  const actor = systemPrincipal("test");

  beforeAll(async () => {
    await createTeam(actor, { slug: "orders", name: "Orders" });
    for (const [slug, address, action] of [
      ["order-service", "orders.{region}.created", "send"],
      ["order-sink", "orders.{id}", "receive"],
      ["order-audit", "orders.{r}.created", "receive"],
    ] as const) {
      await createApplication(actor, { slug, name: slug, team: "orders", clientIdPatterns: [] });
      await publishVersion(actor, slug, { files: { "asyncapi.yaml": doc(slug, address, action) } });
    }
  });

  it("matches token by token on NATS, where MQTT reads a dotted name as one level", async () => {
    const db = await getDb();
    const nats = (await participantsOf(db, ["orders.eu.created", "orders.{p1}.created"], 5, NATS_DIALECT)).get("orders.eu.created")!;
    expect(nats.producers.map((p) => p.application.slug)).toEqual(["order-service"]);
    expect(nats.consumers.map((p) => p.application.slug)).toEqual(["order-audit"]);
    const mqtt = (await participantsOf(db, ["orders.eu.created"], 5)).get("orders.eu.created")!;
    expect(mqtt.consumers.map((p) => p.application.slug)).toEqual(["order-audit", "order-sink"]);
  });
});
