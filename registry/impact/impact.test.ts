import { describe, expect, it } from "vitest";
import { compare } from "../compare.ts";
import { normalise } from "../normalise/index.ts";
import type { Contract } from "../types.ts";
import { IMPACT_LIMITS, impactOf, type AppRef, type ContractCounterpart, type ImpactInput, type ObservedClient } from "./index.ts";

function app(slug: string, team = `${slug}-team`): AppRef {
  return { id: `app_${slug}`, slug, name: slug.replace(/-/g, " "), teamId: `team_${team}`, teamSlug: team, teamName: team };
}

const owner = app("line-sensors");

/** The owner's contract: sends readings on `plant/{line}/temperature`, receives commands on `plant/{line}/commands`. */
function ownerContract(options: { reading?: Record<string, unknown>; required?: string[]; protocol?: string; version?: string } = {}): Promise<Contract> {
  const reading = {
    name: "Reading",
    payload: { type: "object", properties: { celsius: { type: "number" }, ...options.reading }, ...(options.required ? { required: options.required } : {}) },
  };
  const command = { name: "Command", payload: { type: "object", properties: { setpoint: { type: "number" } } } };
  const server = { host: "broker:1883", protocol: options.protocol ?? "mqtt" };
  const temperature = { address: "plant/{line}/temperature", parameters: { line: {} }, messages: { Reading: reading } };
  const commands = { address: "plant/{line}/commands", parameters: { line: {} }, messages: { Command: command } };
  return normalise({
    asyncapi: "3.0.0",
    info: { title: "Line sensors", version: options.version ?? "1.0.0" },
    servers: { plant: server },
    channels: { temperature, commands },
    operations: {
      sendReading: { action: "send", channel: temperature, messages: [reading] },
      receiveCommand: { action: "receive", channel: commands, messages: [command] },
    },
  });
}

const monitor = app("machine-monitor");
const historian = app("historian");
const otherSender = app("other-sensors");
const orders = app("order-service");
const controller = app("line-controller");
const dashboard = app("dashboard");

const contracts: ContractCounterpart[] = [
  // Receives through a template named differently (a `+`-like parameter level).
  { application: monitor, version: "2.1.0", flows: [{ channel: "plant/{plantLine}/temperature", action: "receive", messageKey: "TemperatureReading" }] },
  // Receives through a partial-level template.
  { application: historian, version: "1.0.0", flows: [{ channel: "plant/line-{n}/{metric}", action: "receive", messageKey: "Metric" }] },
  // Sends on the same channel: a fellow producer, not affected by what the owner sends.
  { application: otherSender, version: "1.0.0", flows: [{ channel: "plant/{line}/temperature", action: "send", messageKey: "Reading" }] },
  // Another channel altogether.
  { application: orders, version: "3.0.0", flows: [{ channel: "orders/{id}", action: "receive", messageKey: "OrderPlaced" }] },
  // Sends the commands the owner receives.
  { application: controller, version: "1.2.0", flows: [{ channel: "plant/{line}/commands", action: "send", messageKey: "Command" }] },
];

const observed: ObservedClient[] = [
  { brokerId: "plant-1", clientId: "dash-7", role: "consumer", template: "plant/{id}/temperature", filter: "plant/+/temperature", lastSeen: "2026-11-30T10:00:00.000Z", application: dashboard },
  { brokerId: "plant-1", clientId: "mystery-1", role: "consumer", template: "plant/line-1/temperature", filter: "#", lastSeen: "2026-11-30T11:00:00.000Z", application: null },
  // A producer on a channel the owner sends: not a counterpart.
  { brokerId: "plant-1", clientId: "mystery-2", role: "producer", template: "plant/line-1/temperature", lastSeen: "2026-11-30T11:00:00.000Z", application: null },
  // A consumer elsewhere.
  { brokerId: "plant-1", clientId: "mystery-3", role: "consumer", template: "orders/{id}", lastSeen: "2026-11-30T11:00:00.000Z", application: null },
];

async function inputFor(baseline: Contract, proposed: Contract, more: Partial<ImpactInput> = {}): Promise<ImpactInput> {
  const report = compare(baseline, proposed, { mode: "BACKWARD" });
  return { owner, baseline, proposed, findings: report.findings, upgradeOrder: report.upgradeOrder, contracts, observed, ...more };
}

describe("impactOf", () => {
  it("finds the consumers of a breaking payload change from contracts and observations, and the unknown clients", async () => {
    const baseline = await ownerContract();
    // A new required field: an old consumer still reads new data, a new consumer fails on old data (producers first).
    const proposed = await ownerContract({ reading: { unit: { type: "string" } }, required: ["unit"], version: "2.0.0" });
    const impact = impactOf(await inputFor(baseline, proposed));

    expect(impact.channels).toEqual([expect.objectContaining({ address: "plant/{line}/temperature", action: "send", messages: ["Reading"], breaking: true })]);
    expect(impact.applications.map((a) => [a.application.slug, a.role, a.breaking])).toEqual([
      ["dashboard", "consumer", true],
      ["historian", "consumer", true],
      ["machine-monitor", "consumer", true],
    ]);
    const monitorImpact = impact.applications.find((a) => a.application.slug === "machine-monitor")!;
    expect(monitorImpact.channels).toEqual(["plant/{line}/temperature"]);
    expect(monitorImpact.evidence).toEqual([{ kind: "contract", version: "2.1.0", channel: "plant/{plantLine}/temperature", messageKey: "TemperatureReading", meets: "plant/{line}/temperature" }]);
    expect(monitorImpact.findings.length).toBeGreaterThan(0);
    expect(monitorImpact.findings[0]).toMatchObject({ verdict: "breaking", breaking: true, channel: "plant/{line}/temperature" });
    expect(monitorImpact.findings[0]!.path).toMatch(/^\/channels\/temperature\/messages\/Reading/);
    expect(monitorImpact.upgradeFirst).toBe("owner");
    expect(monitorImpact.upgrade).toContain("line sensors publishes the new version first");

    const dash = impact.applications.find((a) => a.application.slug === "dashboard")!;
    expect(dash.evidence).toEqual([
      { kind: "observed", brokerId: "plant-1", clientId: "dash-7", template: "plant/{id}/temperature", filter: "plant/+/temperature", lastSeen: "2026-11-30T10:00:00.000Z", meets: "plant/{line}/temperature" },
    ]);
    expect(impact.unknownClients).toEqual([
      { brokerId: "plant-1", clientId: "mystery-1", role: "consumer", template: "plant/line-1/temperature", filter: "#", lastSeen: "2026-11-30T11:00:00.000Z", channels: ["plant/{line}/temperature"] },
    ]);
    expect(impact.breaking).toBe(true);
    expect(impact.truncated).toBe(false);
  });

  it("counts a client matched by several applications for each of them, but not for the owner", async () => {
    const baseline = await ownerContract();
    const proposed = await ownerContract({ reading: { unit: { type: "string" } }, required: ["unit"], version: "2.0.0" });
    const wallboard = app("wallboard");
    const seen = { brokerId: "plant-1", clientId: "dash-9", role: "consumer" as const, template: "plant/{id}/temperature", lastSeen: "2026-11-30T10:00:00.000Z" };
    const impact = impactOf(
      await inputFor(baseline, proposed, {
        contracts: [],
        observed: [
          // One record per application whose pattern matches: the owner's own match is skipped, the others kept.
          { ...seen, application: owner },
          { ...seen, application: dashboard },
          { ...seen, application: wallboard },
          // A client only the owner's patterns match is the owner's own: neither affected nor unknown.
          { ...seen, clientId: "sensor-echo", application: owner },
        ],
      }),
    );
    expect(impact.applications.map((a) => [a.application.slug, a.role, a.breaking])).toEqual([
      ["dashboard", "consumer", true],
      ["wallboard", "consumer", true],
    ]);
    for (const affected of impact.applications) expect(affected.evidence.map((e) => (e.kind === "observed" ? e.clientId : null))).toEqual(["dash-9"]);
    expect(impact.unknownClients).toEqual([]);
  });

  it("reaches the producers of a channel the owner receives, phrasing the upgrade order for them", async () => {
    const baseline = await ownerContract();
    const command = { name: "Command", payload: { type: "object", properties: { setpoint: { type: "number" }, mode: { type: "string" } }, required: ["mode"] } };
    const withCommand = structuredClone(baseline);
    withCommand.channels["plant/{line}/commands"]!.messages.Command!.payload = command.payload;
    const impact = impactOf(await inputFor(baseline, withCommand));
    expect(impact.channels.map((c) => [c.address, c.action])).toEqual([["plant/{line}/commands", "receive"]]);
    expect(impact.applications.map((a) => [a.application.slug, a.role])).toEqual([["line-controller", "producer"]]);
    const [producer] = impact.applications;
    // A field the owner now requires breaks the senders that do not send it yet: they upgrade first.
    expect(producer!.breaking).toBe(true);
    expect(producer!.findings[0]).toMatchObject({ verdict: "breaking", breaking: true, channel: "plant/{line}/commands" });
    expect(producer!.upgradeFirst).toBe("counterpart");
    expect(producer!.upgrade).toBe("line controller upgrades first, then line sensors publishes the new version.");
    expect(impact.unknownClients).toEqual([]);
  });

  it("lists an unchanged application as not affected, and a compatible change as affecting without breaking", async () => {
    const baseline = await ownerContract();
    const proposed = structuredClone(baseline);
    proposed.channels["plant/{line}/temperature"]!.messages.Reading!.payload = { type: "object", properties: { celsius: { type: "number", description: "Degrees" } } };
    const impact = impactOf(await inputFor(baseline, proposed));
    expect(impact.channels.map((c) => [c.address, c.breaking])).toEqual([["plant/{line}/temperature", false]]);
    expect(impact.applications.length).toBeGreaterThan(0);
    expect(impact.applications.every((a) => !a.breaking)).toBe(true);
    expect(impact.applications.map((a) => a.application.slug)).not.toContain("order-service");
    expect(impact.applications.map((a) => a.application.slug)).not.toContain("other-sensors");
    expect(impact.applications.map((a) => a.application.slug)).not.toContain("line-controller");
    expect(impact.breaking).toBe(false);
  });

  it("reaches every counterpart of the owner with a server change that breaks everyone", async () => {
    const baseline = await ownerContract();
    const proposed = await ownerContract({ protocol: "mqtt5" });
    const input = await inputFor(baseline, proposed);
    expect(input.findings.some((f) => f.rule === "SERVER_PROTOCOL_CHANGED")).toBe(true);
    const impact = impactOf(input);
    expect(impact.channels).toEqual([]);
    expect(impact.applications.map((a) => [a.application.slug, a.role, a.breaking])).toEqual([
      ["dashboard", "consumer", true],
      ["historian", "consumer", true],
      ["line-controller", "producer", true],
      ["machine-monitor", "consumer", true],
    ]);
    expect(impact.applications[0]!.findings[0]).toMatchObject({ rule: "SERVER_PROTOCOL_CHANGED", channel: null, path: "/servers/plant/protocol" });
    expect(impact.unknownClients.map((u) => u.clientId)).toEqual(["mystery-1"]);
  });

  it("counts a finding of the baseline report once when the reports against each version repeat it, and keeps the baseline index", async () => {
    const baseline = await ownerContract();
    const proposed = await ownerContract({ reading: { unit: { type: "string" } }, required: ["unit"], version: "2.0.0" });
    const once = impactOf(await inputFor(baseline, proposed));
    const input = await inputFor(baseline, proposed);
    const earlier = input.findings.map((f) => ({ ...f, baseline: 0 }));
    const twice = impactOf({ ...input, findings: [...input.findings, ...input.findings, ...earlier] });
    const count = (i: typeof once) => i.applications.find((a) => a.application.slug === "machine-monitor")!.findingCount;
    expect(count(twice)).toBe(2 * count(once));
    expect(twice.applications[0]!.findings.some((f) => f.baseline === 0)).toBe(true);
    expect(twice.channels[0]!.findingCount).toBe(2 * once.channels[0]!.findingCount);
  });

  it("locates the findings of an AsyncAPI 2 document by its channel paths, removed channels included", async () => {
    const v2 = (withChannel: boolean) =>
      normalise({
        asyncapi: "2.6.0",
        info: { title: "Orders", version: "1.0.0" },
        channels: {
          "orders/{id}/placed": { parameters: { id: { schema: { type: "string" } } }, subscribe: { operationId: "placed", message: { name: "OrderPlaced", payload: { type: "object" } } } },
          ...(withChannel ? { "orders/{id}/cancelled": { parameters: { id: { schema: { type: "string" } } }, subscribe: { operationId: "cancelled", message: { name: "OrderCancelled", payload: { type: "object" } } } } } : {}),
        },
      });
    const baseline = await v2(true);
    const proposed = await v2(false);
    const consumer = app("billing");
    const impact = impactOf({
      ...(await inputFor(baseline, proposed)),
      owner: app("orders"),
      contracts: [
        { application: consumer, version: "1.0.0", flows: [{ channel: "orders/{order}/cancelled", action: "receive", messageKey: "Cancelled" }] },
        { application: app("shipping"), version: "1.0.0", flows: [{ channel: "orders/{order}/placed", action: "receive", messageKey: "Placed" }] },
      ],
      observed: [],
    });
    expect(impact.channels.map((c) => [c.address, c.action, c.breaking])).toEqual([["orders/{id}/cancelled", "send", true]]);
    expect(impact.applications.map((a) => [a.application.slug, a.breaking])).toEqual([["billing", true]]);
  });

  it("is deterministic whatever the order of its input, and bounded", async () => {
    const baseline = await ownerContract();
    const proposed = await ownerContract({ reading: { unit: { type: "string" } }, required: ["unit"], version: "2.0.0" });
    const many: ContractCounterpart[] = Array.from({ length: IMPACT_LIMITS.applications + 20 }, (_, i) => ({
      application: app(`consumer-${String(i).padStart(4, "0")}`),
      version: "1.0.0",
      flows: [{ channel: `plant/{l${i}}/temperature`, action: "receive" as const, messageKey: "R" }],
    }));
    const input = await inputFor(baseline, proposed, { contracts: many });
    const forward = impactOf(input);
    const backward = impactOf({ ...input, contracts: [...many].reverse(), observed: [...observed].reverse(), findings: [...input.findings].reverse() });
    expect(forward.applications.length).toBe(IMPACT_LIMITS.applications);
    expect(forward.truncated).toBe(true);
    expect(backward.applications.map((a) => a.application.slug)).toEqual(forward.applications.map((a) => a.application.slug));
    expect(forward.applications[0]!.application.slug).toBe("consumer-0000");
  });

  it("with no baseline (a first version) affects nobody", async () => {
    const proposed = await ownerContract();
    const impact = impactOf({ owner, baseline: null, proposed, findings: [], upgradeOrder: null, contracts, observed });
    expect(impact).toEqual({ channels: [], applications: [], unknownClients: [], breaking: false, truncated: false });
  });
});
