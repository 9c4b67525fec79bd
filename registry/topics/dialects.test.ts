import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { casesByProtocol } from "./cases.ts";
import {
  AMQP_DIALECT,
  FilterIndex,
  filterMatchesTopic,
  filterOverlapsTemplate,
  firstLiteralLevel,
  isValidFilter,
  isValidTemplate,
  isValidTopic,
  joinLevels,
  matchLevel,
  MQTT_DIALECT,
  NATS_DIALECT,
  parseFilter,
  parseTemplate,
  parseTopic,
  splitLevels,
  subscriptionFilterFor,
  TemplateIndex,
  templatesOverlap,
  topicMatchesTemplate,
  type StepCounter,
  type TopicDialect,
} from "./index.ts";
import { parseLevel } from "./level.ts";

const values = (hits: { value: string }[]) => hits.map((h) => h.value).sort();

describe.each([
  ["nats", NATS_DIALECT],
  ["amqp", AMQP_DIALECT],
] as const)("shared %s cases", (protocol, dialect) => {
  const cases = casesByProtocol[protocol];

  it.each(cases.templates.map((c) => [c.query, c.template, c.expected, c.why, c.queryKind] as const))("%s vs %s → %s (%s)", (query, template, expected, _why, kind) => {
    if (kind === "topic") expect(topicMatchesTemplate(query, template, undefined, dialect)).toBe(expected);
    else expect(filterOverlapsTemplate(query, template, { dialect })).toBe(expected);
  });

  it.each(cases.filters.map((c) => [c.filter, c.topic, c.expected, c.why] as const))("filter %s vs %s → %s (%s)", (filter, topic, expected) => {
    expect(filterMatchesTopic(filter, topic, dialect)).toBe(expected);
  });

  it("gives the same answers through both tries", () => {
    const templates = new TemplateIndex<string>(dialect);
    const addresses = [...new Set(cases.templates.map((c) => c.template))];
    for (const a of addresses) templates.add(a, a);
    for (const c of cases.templates) {
      const hits = values(c.queryKind === "topic" ? templates.matchTopic(c.query) : templates.matchFilter(c.query));
      expect(hits.includes(c.template), `${c.query} vs ${c.template}`).toBe(c.expected);
    }
    const filters = new FilterIndex<string>(dialect);
    const texts = [...new Set(cases.filters.map((c) => c.filter))];
    for (const f of texts) filters.set(f, f);
    for (const c of cases.filters) {
      const hits = values(filters.matchTopic(c.topic));
      expect(hits.includes(c.filter), `${c.filter} vs ${c.topic}`).toBe(c.expected);
      expect(hits).toEqual(texts.filter((f) => filterMatchesTopic(f, c.topic, dialect)).sort());
    }
  });
});

describe("parsing per dialect", () => {
  it("reads NATS subjects: no empty tokens, wildcards only whole, no whitespace, bounded", () => {
    for (const s of ["foo", "foo.bar", "$JS.API.INFO", "a/b", "a-b_c"]) expect(isValidTopic(s, NATS_DIALECT), s).toBe(true);
    for (const s of ["", "foo..bar", ".foo", "foo.", "foo.*", "foo.>", "fo*o", "a b", "a\tb", "x".repeat(65_536)]) expect(isValidTopic(s, NATS_DIALECT), s).toBe(false);
    for (const f of [">", "foo.>", "*.bar", "*.*.>"]) expect(isValidFilter(f, NATS_DIALECT), f).toBe(true);
    for (const f of ["foo.>.bar", ">.foo", "foo*", "foo.b>", "foo..*", "", "a b.>"]) expect(isValidFilter(f, NATS_DIALECT), f).toBe(false);
    expect(isValidTemplate("orders.{region}.created", NATS_DIALECT)).toBe(true);
    for (const t of ["orders..x", "orders.*", "orders.>", "orders.{r", "a b"]) expect(isValidTemplate(t, NATS_DIALECT), t).toBe(false);
  });

  it("reads AMQP keys: the empty key is zero words, * and # inside a word are text, at most 255 bytes", () => {
    expect(parseTopic("", AMQP_DIALECT)).toMatchObject({ ok: true, value: { levels: [] } });
    expect(parseTopic("a.", AMQP_DIALECT)).toMatchObject({ ok: true, value: { levels: ["a", ""] } });
    expect(parseTopic("a.#.*", AMQP_DIALECT)).toMatchObject({ ok: true, value: { levels: ["a", "#", "*"] } });
    expect(parseFilter("", AMQP_DIALECT)).toMatchObject({ ok: true, value: { levels: [] } });
    expect(parseFilter("#.a*.#.*", AMQP_DIALECT)).toMatchObject({
      ok: true,
      value: { levels: [{ kind: "multi" }, { kind: "literal", text: "a*" }, { kind: "multi" }, { kind: "single" }] },
    });
    expect(isValidTopic("x".repeat(255), AMQP_DIALECT)).toBe(true);
    expect(isValidTopic("x".repeat(256), AMQP_DIALECT)).toBe(false);
    expect(isValidTopic("é".repeat(128), AMQP_DIALECT)).toBe(false);
    expect(isValidFilter("#".padEnd(256, ".#"), AMQP_DIALECT)).toBe(false);
    expect(isValidTopic("a\u0000b", AMQP_DIALECT)).toBe(false);
    expect(isValidTemplate("", AMQP_DIALECT)).toBe(false);
    expect(isValidTemplate("a.b*c.{x}", AMQP_DIALECT)).toBe(true);
    expect(isValidTemplate("a.*.{x}", AMQP_DIALECT)).toBe(false);
    expect(isValidTemplate("#.x", AMQP_DIALECT)).toBe(false);
    // MQTT is unchanged: the empty name is no topic.
    expect(isValidTopic("")).toBe(false);
    expect(isValidFilter("")).toBe(false);
  });

  it("splits and joins levels per dialect", () => {
    expect(splitLevels("a/b.c")).toEqual(["a", "b.c"]);
    expect(splitLevels("a/b.c", NATS_DIALECT)).toEqual(["a/b", "c"]);
    expect(splitLevels("", AMQP_DIALECT)).toEqual([]);
    expect(splitLevels("", MQTT_DIALECT)).toEqual([""]);
    expect(joinLevels(["orders", "eu", "created"], AMQP_DIALECT)).toBe("orders.eu.created");
    expect(joinLevels(["plant", "7"])).toBe("plant/7");
    for (const [text, dialect] of [["a..b", AMQP_DIALECT], ["", AMQP_DIALECT], ["a.b", NATS_DIALECT], ["/a//", MQTT_DIALECT]] as const) {
      expect(joinLevels(splitLevels(text, dialect), dialect)).toBe(text);
    }
  });

  it("derives the subscription filter and first literal level in the template's dialect", () => {
    expect(subscriptionFilterFor("orders.{region}.created", NATS_DIALECT)).toBe("orders.*.created");
    expect(subscriptionFilterFor("orders.line-{n}.b*c", AMQP_DIALECT)).toBe("orders.*.b*c");
    const parsed = parseTemplate("orders.{region}", AMQP_DIALECT);
    // A parsed template keeps its own dialect.
    expect(parsed.ok && subscriptionFilterFor(parsed.value, MQTT_DIALECT)).toBe("orders.*");
    // In MQTT the dots are text: one level with a parameter.
    expect(subscriptionFilterFor("orders.{region}.created")).toBe("+");
    expect(firstLiteralLevel("orders.{r}", NATS_DIALECT)).toBe("orders");
    expect(firstLiteralLevel("orders.{r}")).toBeNull();
    // Array callbacks pass an index where the dialect goes: it reads as MQTT.
    expect(["a/b", "a/+"].filter(isValidTopic)).toEqual(["a/b"]);
    expect(["a/{x}"].map(subscriptionFilterFor)).toEqual(["a/+"]);
  });
});

describe("matching per dialect", () => {
  it("applies the $ rule only to MQTT", () => {
    expect(filterMatchesTopic("#", "$SYS/x")).toBe(false);
    expect(filterMatchesTopic(">", "$SYS.x", NATS_DIALECT)).toBe(true);
    expect(filterMatchesTopic("*.x", "$SYS.x", NATS_DIALECT)).toBe(true);
    expect(filterMatchesTopic("#", "$SYS.x", AMQP_DIALECT)).toBe(true);
    expect(filterOverlapsTemplate("*.x", "$SYS.x", { dialect: AMQP_DIALECT })).toBe(true);
    expect(new TemplateIndex<string>(NATS_DIALECT).add("$SYS.x", "s")).toBe(true);
    const t = new TemplateIndex<string>(NATS_DIALECT);
    t.add("$SYS.x", "s");
    expect(values(t.matchFilter(">"))).toEqual(["s"]);
    const f = new FilterIndex<string>(AMQP_DIALECT);
    f.set("#", "h");
    f.set("*.x", "s");
    expect(values(f.matchTopic("$SYS.x"))).toEqual(["h", "s"]);
  });

  it("parses a string in the other argument's dialect and never matches across kinds", () => {
    const nats = parseTemplate("orders.{r}", NATS_DIALECT);
    const amqpTopic = parseTopic("orders.eu", AMQP_DIALECT);
    if (!nats.ok || !amqpTopic.ok) throw new Error("parse");
    expect(filterOverlapsTemplate("orders.>", nats.value)).toBe(true);
    expect(topicMatchesTemplate("orders.eu", nats.value)).toBe(true);
    expect(topicMatchesTemplate(amqpTopic.value, nats.value)).toBe(false);
    expect(filterOverlapsTemplate("orders.#", nats.value, { dialect: AMQP_DIALECT })).toBe(false);
    expect(templatesOverlap("orders.{x}", nats.value)).toBe(true);
    const mqtt = parseTemplate("orders.{x}");
    expect(mqtt.ok && templatesOverlap(mqtt.value, nats.value)).toBe(false);
    expect(templatesOverlap("{x}.{y}", "a.b.c", undefined, NATS_DIALECT)).toBe(false);
    expect(templatesOverlap("{x}.{y}", "a.b.c")).toBe(true);
    // An index refuses values of another kind and reads strings in its own.
    const index = new TemplateIndex<string>(AMQP_DIALECT);
    expect(index.add(nats.value, "n")).toBe(false);
    expect(index.add("orders.{r}", "a")).toBe(true);
    expect(values(index.matchTopic("orders.eu"))).toEqual(["a"]);
    const natsTopic = parseTopic("orders.eu", NATS_DIALECT);
    expect(natsTopic.ok && index.matchTopic(natsTopic.value)).toEqual([]);
    const filters = new FilterIndex<string>(NATS_DIALECT);
    const amqpFilter = parseFilter("orders.#", AMQP_DIALECT);
    expect(amqpFilter.ok && filters.set(amqpFilter.value, "x")).toBe(false);
    expect(filters.size).toBe(0);
  });

  it("keeps NATS > off the parent in both tries", () => {
    const templates = new TemplateIndex<string>(NATS_DIALECT);
    for (const a of ["orders", "orders.{r}", "orders.{r}.created", "other.x"]) templates.add(a, a);
    expect(values(templates.matchFilter("orders.>"))).toEqual(["orders.{r}", "orders.{r}.created"]);
    expect(values(templates.matchFilter(">"))).toEqual(["orders", "orders.{r}", "orders.{r}.created", "other.x"]);
    const filters = new FilterIndex<string>(NATS_DIALECT);
    for (const f of ["orders.>", "orders.*", ">", "orders"]) filters.set(f, f);
    expect(values(filters.matchTopic("orders"))).toEqual([">", "orders"]);
    expect(values(filters.matchTopic("orders.eu"))).toEqual([">", "orders.*", "orders.>"]);
    expect(values(filters.matchTemplate("orders.{r}.created"))).toEqual([">", "orders.>"]);
  });

  it("stores AMQP # anywhere in the filter trie, and prunes it on delete", () => {
    const index = new FilterIndex<string>(AMQP_DIALECT);
    const filters = ["#", "#.error", "a.#.b", "#.#", "a.#", "", "*.orange.*", "lazy.#", "a.#.#.b"];
    for (const f of filters) expect(index.set(f, f), f).toBe(true);
    expect(index.size).toBe(filters.length);
    expect(index.get("a.#.b")).toBe("a.#.b");
    expect(index.get("a.#")).toBe("a.#");
    expect(index.get("a.#.c")).toBeUndefined();
    expect(values(index.matchTopic("a.b"))).toEqual(["#", "#.#", "a.#", "a.#.#.b", "a.#.b"]);
    expect(values(index.matchTopic(""))).toEqual(["", "#", "#.#"]);
    expect(values(index.matchTopic("app.error"))).toEqual(["#", "#.#", "#.error"]);
    expect(values(index.matchTemplate("lazy.{x}.error"))).toEqual(["#", "#.#", "#.error", "*.orange.*", "lazy.#"]);
    expect(index.delete("a.#.c")).toBe(false);
    for (const f of filters) expect(index.delete(f), f).toBe(true);
    expect([index.size, index.nodes]).toEqual([0, 1]);
  });
});

// A reference matcher written from the brokers' documentation, by plain backtracking (small inputs only).
function referenceMatch(filter: string, target: string, dialect: TopicDialect, levelMatches: (template: string, text: string) => boolean, reservedTopics = false): boolean {
  const f = parseFilter(filter, dialect);
  if (!f.ok) return false;
  const t = splitLevels(target, dialect);
  const q = f.value.levels;
  if (dialect.reservedDollar && !reservedTopics && q[0] && q[0].kind !== "literal" && t[0]?.startsWith("$")) return false;
  const go = (i: number, j: number): boolean => {
    if (i === q.length) return j === t.length;
    const level = q[i]!;
    if (level.kind === "multi") {
      if (dialect.multiMinLevels === 0 && go(i + 1, j)) return true;
      for (let k = j + 1; k <= t.length; k++) if (go(i + 1, k)) return true;
      return false;
    }
    if (j === t.length) return false;
    if (level.kind === "single") return go(i + 1, j + 1);
    return levelMatches(t[j]!, level.text) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

function templateLevelMatches(template: string, text: string): boolean {
  const level = parseLevel(template);
  if (!level.ok) throw new Error(level.reason);
  return "literal" in level ? level.literal === text : matchLevel(level.pattern, text);
}

describe.each([
  ["mqtt", MQTT_DIALECT],
  ["nats", NATS_DIALECT],
  ["amqp", AMQP_DIALECT],
] as const)("equivalence in %s: pairwise == reference, index == pairwise", (_protocol, dialect) => {
  const sep = dialect.separator;
  const empties = dialect.emptyLevels ? [""] : [];
  const filterLevel = fc.constantFrom("a", "b", "$s", dialect.single, dialect.multi, ...empties);
  // AMQP routing keys may hold the wildcard characters as text.
  const topicLevel = fc.constantFrom("a", "b", "$s", "ab", ...empties, ...(dialect === AMQP_DIALECT ? ["*", "#", "a#"] : []));
  const templateLevel = fc.constantFrom("a", "b", "$s", "{x}", "a{x}", "{x}b", "{x}{y}", ...empties);
  const joined = (levels: fc.Arbitrary<string>, min: number) => fc.array(levels, { minLength: min, maxLength: 5 }).map((ls) => ls.join(sep));
  // AMQP's empty key (zero words) only comes from an empty list.
  const filterText = joined(filterLevel, dialect === AMQP_DIALECT ? 0 : 1);
  const topicText = joined(topicLevel, dialect === AMQP_DIALECT ? 0 : 1);
  const templateText = joined(templateLevel, 1);

  it("filters against topics", () => {
    fc.assert(
      fc.property(fc.uniqueArray(filterText, { maxLength: 10 }), topicText, (filters, topic) => {
        const valid = filters.filter((f) => isValidFilter(f, dialect));
        const pairwise = valid.filter((f) => filterMatchesTopic(f, topic, dialect));
        if (isValidTopic(topic, dialect)) {
          expect(pairwise).toEqual(valid.filter((f) => referenceMatch(f, topic, dialect, (a, b) => a === b)));
        } else expect(pairwise).toEqual([]);
        const index = new FilterIndex<string>(dialect);
        for (const f of valid) index.set(f, f);
        expect(values(index.matchTopic(topic))).toEqual([...pairwise].sort());
        const templates = new TemplateIndex<string>(dialect);
        // A topic is a template without parameters.
        if (isValidTemplate(topic, dialect)) {
          templates.add(topic, topic);
          for (const f of valid) expect(values(templates.matchFilter(f)), f).toEqual(filterOverlapsTemplate(f, topic, { dialect }) ? [topic] : []);
        }
        for (const f of valid) index.delete(f);
        expect([index.size, index.nodes]).toEqual([0, 1]);
      }),
      { numRuns: 600 },
    );
  });

  it("filters against templates", () => {
    fc.assert(
      fc.property(fc.uniqueArray(filterText, { maxLength: 10 }), fc.uniqueArray(templateText, { minLength: 1, maxLength: 8 }), fc.boolean(), (filters, templates, reservedTopics) => {
        const valid = filters.filter((f) => isValidFilter(f, dialect));
        const addresses = templates.filter((t) => isValidTemplate(t, dialect));
        const options = { dialect, reservedTopics };
        for (const t of addresses) {
          const pairwise = valid.filter((f) => filterOverlapsTemplate(f, t, options));
          expect(pairwise, t).toEqual(valid.filter((f) => referenceMatch(f, t, dialect, templateLevelMatches, reservedTopics)));
          const index = new FilterIndex<string>(dialect);
          for (const f of valid) index.set(f, f);
          expect(values(index.matchTemplate(t, { reservedTopics })), t).toEqual([...pairwise].sort());
        }
        const index = new TemplateIndex<string>(dialect);
        for (const t of addresses) index.add(t, t);
        for (const f of valid) {
          expect(values(index.matchFilter(f, { reservedTopics })), f).toEqual(addresses.filter((t) => filterOverlapsTemplate(f, t, options)).sort());
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("bounds", () => {
  // 128 one-character words: the longest AMQP routing key (255 bytes).
  const key = Array.from({ length: 128 }, () => "a").join(".");
  const hashes = Array.from({ length: 128 }, () => "#").join(".");
  // Backtracking would try every way to share the words among the `#`s before failing on `b`.
  const alternating = `${Array.from({ length: 63 }, () => "#.a").join(".")}.b`;

  it("matches the longest AMQP key against # everywhere in (levels + 1)² steps", () => {
    expect(key.length).toBe(255);
    expect(hashes.length).toBe(255);
    expect(isValidFilter(alternating, AMQP_DIALECT)).toBe(true);
    const counter: StepCounter = { steps: 0 };
    expect(filterOverlapsTemplate(hashes, key, { dialect: AMQP_DIALECT }, counter)).toBe(true);
    expect(filterOverlapsTemplate(alternating, key, { dialect: AMQP_DIALECT }, counter)).toBe(false);
    expect(filterOverlapsTemplate(alternating, `${key.slice(0, 253)}.b`, { dialect: AMQP_DIALECT }, counter)).toBe(true);
    expect(counter.steps).toBeLessThanOrEqual(3 * 129 * 129);
    expect(filterMatchesTopic(alternating, key, AMQP_DIALECT)).toBe(false);
  });

  it("walks both tries in polynomial steps", () => {
    const templates = new TemplateIndex<number>(AMQP_DIALECT);
    templates.add(key, 1);
    expect(templates.add(`${key.slice(0, 251)}.{x}`, 2)).toBe(true);
    const counter: StepCounter = { steps: 0 };
    expect(templates.matchFilter(hashes, {}, counter).map((h) => h.value).sort()).toEqual([1, 2]);
    expect(templates.matchFilter(alternating, {}, counter).map((h) => h.value)).toEqual([2]);
    // Each (node, filter position) once: at most 130 nodes × 130 positions per walk.
    expect(counter.steps).toBeLessThanOrEqual(2 * 130 * 130 * 2);

    const filters = new FilterIndex<number>(AMQP_DIALECT);
    filters.set(hashes, 1);
    filters.set(alternating, 2);
    const steps: StepCounter = { steps: 0 };
    expect(filters.matchTopic(key, steps).map((h) => h.value)).toEqual([1]);
    expect(steps.steps).toBeLessThanOrEqual(2 * filters.nodes * 129 * 2);
  });
});
