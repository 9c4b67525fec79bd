import { describe, expect, it } from "vitest";
import { Observer } from "./observer.ts";
import { MAX_CONCRETE_TOPICS_PER_TEMPLATE } from "./protocol.ts";
import { ConsumerTracker } from "./tracker.ts";

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("Observer", () => {
  it("aggregates per template with sizes, QoS, retain, rate and content", () => {
    const o = new Observer({}, 0);
    o.observe("plant/line-1/temp", json({ t: 1 }), 0, false, 1_000);
    o.observe("plant/line-2/temp", json({ t: 2.5 }), 1, true, 2_000);
    o.observe("plant/line-2/temp", Buffer.from("oops"), 2, false, 3_000);
    const snap = o.snapshot(10_000);
    expect(snap.messages).toBe(3);
    expect(snap.observations).toHaveLength(1);
    const t = snap.observations[0]!;
    expect(t).toMatchObject({
      template: "plant/{p1}/temp",
      distinctTopics: 2,
      messages: 3,
      minSize: 4,
      maxSize: 9,
      qos: { q0: 1, q1: 1, q2: 1 },
      retained: 1,
      ratePerSecond: 0.3,
      firstSeen: new Date(1_000).toISOString(),
      lastSeen: new Date(3_000).toISOString(),
      content: { kind: "mixed", json: 2, text: 1, binary: 0, empty: 0 },
      schemaSamples: 2,
    });
    expect(t.topics).toEqual([
      { topic: "plant/line-2/temp", messages: 2 },
      { topic: "plant/line-1/temp", messages: 1 },
    ]);
    expect((t.schema!.properties as Record<string, { type: string }>).t!.type).toBe("number");
  });

  it("lists a template's busiest topics first (ties by name), at most the listing cap, with producer-only topics and counts per window", () => {
    const o = new Observer({ collapseThreshold: 2 }, 0);
    for (let i = 0; i < MAX_CONCRETE_TOPICS_PER_TEMPLATE + 20; i++) o.observe(`fleet/d${String(i).padStart(4, "0")}/t`, json({ i }), 0, false, 1);
    o.observe("fleet/d0060/t", json({}), 0, false, 2);
    o.observe("fleet/d0060/t", json({}), 0, false, 2);
    o.observe("fleet/d0007/t", json({}), 0, false, 2);
    o.observeProducer("fleet/d9999/t", "p1", 5, 3);
    const t = o.snapshot(10).observations.find((x) => x.template === "fleet/{p1}/t")!;
    expect(t.distinctTopics).toBe(MAX_CONCRETE_TOPICS_PER_TEMPLATE + 21);
    expect(t.messages).toBe(MAX_CONCRETE_TOPICS_PER_TEMPLATE + 23);
    expect(t.topics).toHaveLength(MAX_CONCRETE_TOPICS_PER_TEMPLATE);
    expect(t.topics.slice(0, 4)).toEqual([
      { topic: "fleet/d0060/t", messages: 3 },
      { topic: "fleet/d0007/t", messages: 2 },
      { topic: "fleet/d0000/t", messages: 1 },
      { topic: "fleet/d0001/t", messages: 1 },
    ]);
    expect(t.producers).toEqual([{ clientId: "p1", messages: 1, bytes: 5 }]);
    // A new window counts from zero, with the same topics known again.
    o.observe("fleet/d0007/t", json({}), 0, false, 11);
    const next = o.snapshot(20).observations;
    expect(next).toHaveLength(1);
    expect(next[0]!.topics).toEqual([{ topic: "fleet/d0007/t", messages: 1 }]);
  });

  it("classifies very large payloads by their first bytes without parsing them", () => {
    const o = new Observer({ maxParseBytes: 100 }, 0);
    o.observe("big", json({ pad: "x".repeat(500) }), 0, false, 1);
    const t = o.snapshot(10).observations[0]!;
    expect(t.content).toMatchObject({ kind: "json", json: 1 });
    expect(t.schema).toBeNull();
  });

  it("keeps feeding the schema past the parse budget through the reservoir's picks", () => {
    // random() = 0: the reservoir keeps every payload, so each one is also parsed.
    const o = new Observer({ parseBudgetPerTemplate: 2, random: () => 0 }, 0);
    for (let i = 0; i < 50; i++) o.observe("drift", json({ a: i === 40 ? "late" : i }), 0, false, 1);
    const t = o.snapshot(10).observations[0]!;
    expect(t.schemaSamples).toBe(50);
    expect((t.schema!.properties as Record<string, { type: unknown }>).a!.type).toEqual(["integer", "string"]);
    // With the default randomness only a trickle is parsed.
    const few = new Observer({ parseBudgetPerTemplate: 2 }, 0);
    for (let i = 0; i < 5_000; i++) few.observe("steady", json({ a: i }), 0, false, 1);
    expect(few.snapshot(10).observations[0]!.schemaSamples).toBeLessThan(200);
  });

  it("starts a fresh window after a snapshot", () => {
    const o = new Observer({}, 0);
    o.observe("a", Buffer.from("x"), 0, false, 1);
    o.snapshot(5);
    const next = o.snapshot(10);
    expect(next.start).toBe(5);
    expect(next.messages).toBe(0);
    expect(next.observations).toEqual([]);
  });

  it("merges templates that collapse during a window", () => {
    const o = new Observer({ collapseThreshold: 3 }, 0);
    for (const city of ["berlin", "paris", "rome", "oslo", "madrid"]) o.observe(`site/${city}/temp`, json({ c: city }), 0, false, 1);
    const snap = o.snapshot(1_000);
    expect(snap.observations.map((x) => [x.template, x.messages, x.distinctTopics])).toEqual([["site/{p1}/temp", 5, 5]]);
    expect(snap.observations[0]!.samples.length).toBe(5);
  });

  it("counts what the caps drop, and nothing else", () => {
    const o = new Observer({ maxTopics: 2, maxSampleBytesTotal: 3, samplesPerTemplate: 5 }, 0);
    o.observe("a/x", Buffer.from("12"), 0, false);
    o.observe("a/y", Buffer.from("12"), 0, false);
    o.observe("a/z", Buffer.from("12"), 0, false);
    o.observe("a/x", Buffer.from("12"), 0, false);
    o.observe("bad/+", Buffer.from("1"), 0, false);
    const snap = o.snapshot();
    expect(snap.messages).toBe(3);
    expect(snap.drops).toMatchObject({ topicCap: 1, malformed: 1, sampleCap: 2 });
  });

  it("keeps accepting new topics of known templates at the template cap", () => {
    const o = new Observer({ maxTemplates: 1 }, 0);
    o.observe("a/1", Buffer.from("x"), 0, false);
    o.observe("b/x", Buffer.from("x"), 0, false);
    o.observe("a/2", Buffer.from("x"), 0, false);
    const snap = o.snapshot();
    expect(snap.observations.map((x) => [x.template, x.messages])).toEqual([["a/{p1}", 2]]);
    expect(snap.drops.templateCap).toBe(1);
  });

  it("labels templates with contract channels and attaches producers and consumers", () => {
    const o = new Observer({}, 0);
    o.setChannels([{ address: "plant/{lineId}/temp", application: "monitor", contractVersion: "1.0.0" }]);
    const tracker = new ConsumerTracker({ ignoreClientIds: ["agent"] });
    tracker.subscribed("dash", "plant/+/temp", 1);
    tracker.subscribed("archive", "#", 0);
    tracker.subscribed("agent", "#", 2);
    tracker.subscribed("other", "office/#", 0);
    o.observe("plant/7/temp", json({ v: 1 }), 1, false, 10);
    o.observeProducer("plant/7/temp", "sensor-7", 9, 10);
    o.observeProducer("plant/8/temp", "sensor-8", 9, 11);
    o.observeProducer("hidden/topic", "ghost", 3, 12);
    const snap = o.snapshot(1_000, (tpl) => tracker.consumersOf(tpl));
    const t = snap.observations.find((x) => x.template === "plant/{p1}/temp")!;
    expect(t.channel).toEqual({ address: "plant/{lineId}/temp", application: "monitor", contractVersion: "1.0.0" });
    expect(t.producers.map((p) => p.clientId).sort()).toEqual(["sensor-7", "sensor-8"]);
    expect(t.consumers).toEqual([
      { clientId: "archive", filter: "#", qos: 0 },
      { clientId: "dash", filter: "plant/+/temp", qos: 1 },
    ]);
    // A producer on a topic the agent never received still shows up.
    expect(snap.observations.find((x) => x.template === "hidden/topic")).toMatchObject({ messages: 0, producers: [{ clientId: "ghost" }] });
  });
});

describe("ConsumerTracker", () => {
  it("drops a clean session's subscriptions on disconnect and keeps a persistent one's", () => {
    const t = new ConsumerTracker();
    t.connected("clean", true);
    t.connected("durable", false);
    t.subscribed("clean", "a/#", 0);
    t.subscribed("durable", "a/b", 1);
    t.disconnected("clean");
    t.disconnected("durable");
    expect(t.consumersOf("a/b").consumers.map((c) => c.clientId)).toEqual(["durable"]);
    t.unsubscribed("durable", "a/b");
    expect(t.consumersOf("a/b").consumers).toEqual([]);
  });

  it("never matches $-topics with leading wildcards", () => {
    const t = new ConsumerTracker();
    t.subscribed("c", "#", 0);
    t.subscribed("d", "+/broker/x", 0);
    t.subscribed("e", "$SYS/#", 0);
    expect(t.consumersOf("$SYS/broker/x").consumers.map((c) => c.clientId)).toEqual(["e"]);
  });

  it("is bounded", () => {
    const t = new ConsumerTracker({ maxClients: 2, maxFiltersPerClient: 1 });
    t.subscribed("a", "x", 0);
    t.subscribed("a", "y", 0);
    t.subscribed("b", "x", 0);
    t.subscribed("c", "x", 0);
    expect(t.dropped).toBe(2);
    expect(t.consumersOf("x").consumers).toHaveLength(2);
  });
});
