/** "Import into the catalog": an undocumented topic becomes a change request adding its channel to a contract. */
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import * as importRoute from "@/app/api/v1/drift/findings/[id]/import/route.ts";
import { auditEntry, changeRequest, changeRequestRevision, driftFinding } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBroker } from "@/lib/brokers/brokers.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { newId } from "@/lib/ids.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { parseContract } from "@/registry/index.ts";
import type { DriftRuleId } from "@/registry/drift/types.ts";
import { importUndocumentedTopic } from "./import.ts";

const SENSORS_V3 = [
  "asyncapi: 3.0.0",
  "# The sensors of every line",
  "info: { title: Line sensors, version: 1.2.0, description: Readings of the lines }",
  "channels:",
  "  temperature:",
  "    address: plant/{lineId}/temperature",
  "    parameters: { lineId: { description: The line } }",
  "    messages:",
  "      reading:",
  "        name: reading",
  "        contentType: application/json",
  "        payload: { type: object, properties: { value: { type: number } } }",
  "operations:",
  "  sendReading: { action: send, channel: { $ref: '#/channels/temperature' } }  # keep me",
  "",
].join("\n");

const GATEWAY_V2 = [
  "asyncapi: 2.6.0",
  "info:",
  "  title: Line gateway",
  "  version: 2.0.3",
  "channels:",
  "  plant/{lineId}/status:",
  "    parameters:",
  "      lineId:",
  "        schema: { type: string }",
  "    subscribe:",
  "      operationId: sendStatus",
  "      message:",
  "        name: status",
  "        payload: { type: object, properties: { up: { type: boolean } } }",
  "",
].join("\n");

const MONITOR_JSON = `${JSON.stringify(
  {
    asyncapi: "3.0.0",
    info: { title: "Machine monitor", version: "0.4.1" },
    channels: {},
    operations: {},
  },
  null,
  2,
)}\n`;

const INFERRED = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: { humidity: { type: "number" }, reading: { type: "object", properties: { unit: { type: "string" } } } },
  required: ["humidity"],
};

const user = (u: { id: string; email: string; name: string }, role: "admin" | "reviewer" | "editor" | "viewer"): Principal => ({ kind: "user", id: u.id, email: u.email, name: u.name, role });

describeEachBackend("drift import into the catalog", ({ handle }) => {
  let admin: Principal;
  let editor: Principal;
  let outsider: Principal;
  let ciToken: string;
  const db = () => handle().db;

  async function seedFinding(template: string, rule: DriftRuleId = "UNDOCUMENTED_TOPIC", inferredSchema: Record<string, unknown> | undefined = INFERRED): Promise<string> {
    const id = newId("drift");
    await db()
      .insert(driftFinding)
      .values({
        id,
        subjectKey: randomBytes(16).toString("hex"),
        rule,
        severity: "warning",
        brokerId: "plant-eu",
        template,
        summary: `Undocumented topic ${template}`,
        evidence: { topics: [template.replace("{p1}", "line-1")], messages: 40, ...(inferredSchema ? { inferredSchema } : {}) },
        firstSeen: new Date(Date.now() - 3600_000),
        lastSeen: new Date(),
        occurrences: 40,
      });
    return id;
  }

  async function proposal(number: number) {
    const [row] = await db()
      .select({ revision: changeRequestRevision, request: changeRequest })
      .from(changeRequestRevision)
      .innerJoin(changeRequest, eq(changeRequest.id, changeRequestRevision.changeRequestId))
      .where(and(eq(changeRequest.number, number), eq(changeRequestRevision.number, 1)));
    const parsed = await parseContract(row!.revision.files, { root: row!.revision.rootFile });
    expect(parsed.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    return { ...row!, contract: parsed.contract! };
  }

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = user(a, "admin");
    editor = user(await createUser(admin, { name: "Eve", email: "eve@example.com", password: "correct horse battery", role: "editor" }), "editor");
    outsider = user(await createUser(admin, { name: "Otto", email: "otto@example.com", password: "correct horse battery", role: "editor" }), "editor");
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(admin, { slug: "elsewhere", name: "Elsewhere" });
    await setTeamMember(admin, "plant-ops", { email: "eve@example.com" });
    await setTeamMember(admin, "elsewhere", { email: "otto@example.com" });
    await createApplication(admin, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" });
    await createApplication(admin, { slug: "line-gateway", name: "Line gateway", team: "plant-ops" });
    await createApplication(admin, { slug: "machine-monitor", name: "Machine monitor", team: "plant-ops" });
    await createApplication(admin, { slug: "newcomer", name: "Newcomer", team: "plant-ops" });
    await publishVersion(admin, "line-sensors", { files: { "asyncapi.yaml": SENSORS_V3 } });
    await publishVersion(admin, "line-gateway", { files: { "gateway.yaml": GATEWAY_V2 } });
    await publishVersion(admin, "machine-monitor", { files: { "asyncapi.json": MONITOR_JSON } });
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU" });
    ciToken = (await createToken(admin, { name: "ci", scopes: ["contracts:write"], teamSlug: "plant-ops" })).secret;
  });

  it("adds a 3.0 channel, message and operation to the current YAML document as the next minor version, keeping the rest", async () => {
    const findingId = await seedFinding("plant/{p1}/humidity");
    const outcome = await importUndocumentedTopic(editor, findingId, { application: "line-sensors" });
    expect(outcome.changeRequest).toMatchObject({ state: "open", revision: 1, url: `/reviews/${outcome.changeRequest.number}` });
    expect(outcome.imported).toMatchObject({ channel: "plant/{plantId}/humidity", version: "1.3.0", action: "send", message: "humidity" });
    const { revision, request, contract } = await proposal(outcome.changeRequest.number);
    expect(revision.version).toBe("1.3.0");
    expect(contract.version).toBe("1.3.0");
    expect(request.description).toContain(`/drift/${findingId}`);
    const channel = contract.channels["plant/{plantId}/humidity"]!;
    expect(Object.keys(channel.parameters)).toEqual(["plantId"]);
    const message = channel.messages.humidity!;
    expect(message.payload).toMatchObject({ type: "object", properties: { humidity: { type: "number" } }, required: ["humidity"] });
    expect(message.payload).not.toHaveProperty("$schema");
    const operation = Object.values(contract.operations).find((o) => o.channel === "plant/{plantId}/humidity")!;
    expect(operation).toMatchObject({ action: "send", messages: ["humidity"] });
    // The rest of the document is as it was: the old channel, its operation, the comments.
    expect(contract.channels["plant/{lineId}/temperature"]).toBeDefined();
    expect(contract.operations.sendReading).toMatchObject({ action: "send" });
    const text = revision.files["asyncapi.yaml"]!;
    expect(text).toContain("# The sensors of every line");
    expect(text).toContain("# keep me");
    const [audit] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "change_request.open"), eq(auditEntry.targetId, request.id)));
    expect(audit!.details).toMatchObject({ application: "line-sensors", version: "1.3.0" });
  });

  it("adds a 2.x channel with a subscribe (send) or publish (receive) operation, under the address and message given", async () => {
    const send = await importUndocumentedTopic(editor, await seedFinding("plant/{p1}/vibration"), { application: "line-gateway" });
    const sent = await proposal(send.changeRequest.number);
    expect(sent.revision.version).toBe("2.1.0");
    expect(sent.revision.rootFile).toBe("gateway.yaml");
    expect(sent.contract.asyncapi).toMatch(/^2\./);
    const op = Object.values(sent.contract.operations).find((o) => o.channel === "plant/{plantId}/vibration")!;
    expect(op).toMatchObject({ action: "send" });
    expect(sent.contract.channels["plant/{plantId}/vibration"]!.messages.vibration!.payload).toMatchObject({ properties: { humidity: { type: "number" } } });
    expect(sent.contract.channels["plant/{lineId}/status"]).toBeDefined();

    const receive = await importUndocumentedTopic(editor, await seedFinding("plant/{p1}/noise"), { application: "line-gateway", channel: "plant/{line}/noise", message: "noiseLevel", action: "receive" });
    const received = await proposal(receive.changeRequest.number);
    const channel = received.contract.channels["plant/{line}/noise"]!;
    expect(Object.keys(channel.messages)).toEqual(["noiseLevel"]);
    expect(Object.values(received.contract.operations).find((o) => o.channel === "plant/{line}/noise")).toMatchObject({ action: "receive" });
  });

  it("edits a JSON root file as JSON, and answers the route with 201", async () => {
    const findingId = await seedFinding("alarms/{p1}");
    const response = await importRoute.POST(
      new Request(`http://localhost:3000/api/v1/drift/findings/${findingId}/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${ciToken}`, "content-type": "application/json" },
        body: JSON.stringify({ application: "machine-monitor", action: "receive" }),
      }),
      { params: Promise.resolve({ id: findingId }) },
    );
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.changeRequest.url).toBe(`/reviews/${body.changeRequest.number}`);
    const { revision, contract } = await proposal(body.changeRequest.number);
    expect(revision.version).toBe("0.5.0");
    expect(() => JSON.parse(revision.files["asyncapi.json"]!)).not.toThrow();
    expect(contract.channels["alarms/{alarmId}"]).toBeDefined();
    expect(Object.values(contract.operations)[0]).toMatchObject({ action: "receive", channel: "alarms/{alarmId}" });
  });

  it("refuses what it cannot import, changing nothing", async () => {
    const before = await db().select({ id: changeRequest.id }).from(changeRequest);
    const findingId = await seedFinding("plant/{p1}/pressure");
    await expect(importUndocumentedTopic(editor, findingId, { application: "newcomer" })).rejects.toMatchObject({ code: "conflict:no_current_version", status: 409 });
    await expect(importUndocumentedTopic(outsider, findingId, { application: "line-sensors" })).rejects.toMatchObject({ code: "forbidden:team" });
    await expect(importUndocumentedTopic(editor, await seedFinding("plant/{p1}/x", "UNKNOWN_CLIENT"), { application: "line-sensors" })).rejects.toMatchObject({ code: "conflict:drift_rule" });
    await expect(importUndocumentedTopic(editor, "drift_nope", { application: "line-sensors" })).rejects.toMatchObject({ code: "not_found:drift_finding" });
    await expect(importUndocumentedTopic(editor, findingId, { application: "nope" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(importUndocumentedTopic(editor, findingId, { application: "line-sensors", channel: "plant/+/pressure" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(importUndocumentedTopic(editor, findingId, { application: "line-sensors", channel: "plant/{lineId}/temperature" })).rejects.toMatchObject({ code: "conflict:channel_exists" });
    await expect(importUndocumentedTopic(editor, findingId, { application: "line-sensors", action: "both" })).rejects.toMatchObject({ code: "invalid_input" });
    expect(await db().select({ id: changeRequest.id }).from(changeRequest)).toEqual(before);
  });
});
