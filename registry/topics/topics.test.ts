import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterCases, templateCases } from "./cases.ts";
import {
  FilterIndex,
  filterMatchesTopic,
  filterOverlapsTemplate,
  firstLiteralLevel,
  isValidFilter,
  isValidTopic,
  matchLevel,
  parseTemplate,
  subscriptionFilterFor,
  TemplateIndex,
  topicMatchesTemplate,
  type LevelPattern,
  type StepCounter,
} from "./index.ts";

const isFilter = (query: string) => query.includes("+") || query.includes("#");

function patternOf(level: string): LevelPattern {
  const parsed = parseTemplate(level);
  if (!parsed.ok || parsed.value.levels[0]!.kind !== "pattern") throw new Error(`not a pattern: ${level}`);
  return parsed.value.levels[0]!.pattern;
}

describe("shared template cases", () => {
  it.each(templateCases.map((c) => [c.query, c.template, c.expected, c.why] as const))("%s vs %s → %s (%s)", (query, template, expected) => {
    expect(filterOverlapsTemplate(query, template)).toBe(expected);
    if (!isFilter(query)) expect(topicMatchesTemplate(query, template)).toBe(expected);
  });

  it("gives the same answers through the trie", () => {
    const index = new TemplateIndex<string>();
    const templates = [...new Set(templateCases.map((c) => c.template))];
    for (const t of templates) index.add(t, t);
    for (const c of templateCases) {
      const hits = (isFilter(c.query) ? index.matchFilter(c.query) : index.matchTopic(c.query)).map((h) => h.value);
      expect(hits.includes(c.template), `${c.query} vs ${c.template}`).toBe(c.expected);
      // Every hit agrees with the pairwise function, and nothing pairwise is missed.
      expect(new Set(hits)).toEqual(new Set(templates.filter((t) => filterOverlapsTemplate(c.query, t))));
    }
  });
});

describe("shared filter cases", () => {
  it.each(filterCases.map((c) => [c.filter, c.topic, c.expected, c.why] as const))("%s vs %s → %s (%s)", (filter, topic, expected) => {
    expect(filterMatchesTopic(filter, topic)).toBe(expected);
  });
});

describe("parsing", () => {
  it("validates topics, filters and templates", () => {
    expect(isValidTopic("a/b")).toBe(true);
    for (const t of ["", "a/+", "a/#", "a\u0000b", "x".repeat(65_536), "é".repeat(40_000)]) expect(isValidTopic(t)).toBe(false);
    for (const f of ["#", "plant/#", "plant/+/temperature", "+/+", "/leading", "a//b"]) expect(isValidFilter(f)).toBe(true);
    for (const f of ["", "plant/#/x", "plant/te#", "plant/+x/y", "a\u0000b"]) expect(isValidFilter(f)).toBe(false);
    const tpl = parseTemplate("site/{region}-{zone}/line-{id}");
    expect(tpl.ok && tpl.value.parameters).toEqual(["region", "zone", "id"]);
    for (const t of ["", "a/{", "a/}", "a/{}", "a/{x{y}}", "a/+", "a/#", "a/{x}+"]) expect(parseTemplate(t).ok, t).toBe(false);
  });
  it("derives the subscription filter and the first literal level", () => {
    expect(subscriptionFilterFor("plant/{lineId}/temperature")).toBe("plant/+/temperature");
    expect(subscriptionFilterFor("plant/line-{lineId}/x")).toBe("plant/+/x");
    expect(subscriptionFilterFor("a/{b")).toBeNull();
    expect(firstLiteralLevel("plant/{x}")).toBe("plant");
    expect(firstLiteralLevel("line-{x}/y")).toBeNull();
  });
  it("treats regex characters and braces in a topic as text", () => {
    expect(topicMatchesTemplate("a/{x}", "a/{y}")).toBe(true);
    expect(topicMatchesTemplate("(a+)+", "{x}")).toBe(false);
    expect(topicMatchesTemplate("a*b", "a{x}b")).toBe(true);
  });
  it("lets the agent's placeholders reach $ topics when asked", () => {
    expect(filterOverlapsTemplate("+/broker/uptime", "$SYS/broker/uptime")).toBe(false);
    expect(filterOverlapsTemplate("+/broker/uptime", "$SYS/broker/uptime", { reservedTopics: true })).toBe(true);
  });
});

describe("level matcher", () => {
  it("agrees with a brute-force split on random levels", () => {
    // Reference: try every assignment of values to parameters (exponential, small inputs only).
    const brute = (parts: (string | null)[], value: string): boolean => {
      const go = (i: number, pos: number): boolean => {
        if (i === parts.length) return pos === value.length;
        const part = parts[i]!;
        if (part !== null) return value.startsWith(part, pos) && go(i + 1, pos + part.length);
        for (let end = pos + 1; end <= value.length; end++) if (go(i + 1, end)) return true;
        return false;
      };
      return go(0, 0);
    };
    const part = fc.oneof(fc.constant(null), fc.stringMatching(/^[ab-]{1,3}$/));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), fc.stringMatching(/^[ab-]{0,10}$/), (parts, value) => {
        if (!parts.includes(null)) return;
        const level = parts.map((p, i) => (p === null ? `{p${i}}` : p)).join("");
        expect(matchLevel(patternOf(level), value)).toBe(brute(parts, value));
      }),
      { numRuns: 2000 },
    );
  });

  it("matches 50 adjacent parameters against a long level in linear steps", () => {
    const params = Array.from({ length: 50 }, (_, i) => `{p${i}}`).join("");
    // Near the 65,535-byte limit of a topic name.
    const long = "a".repeat(60_000);
    const counter: StepCounter = { steps: 0 };
    expect(topicMatchesTemplate(`x/${long}`, `x/${params}z`, counter)).toBe(false);
    expect(topicMatchesTemplate(`x/${long}z`, `x/${params}z`, counter)).toBe(true);
    expect(topicMatchesTemplate(`x/${"a".repeat(49)}`, `x/${params}`, counter)).toBe(false);
    expect(counter.steps).toBeLessThan(4 * long.length);
  });

  it("stays linear with literal anchors between many parameters", () => {
    // The shape that made the old RegExp backtrack: separators the text is full of.
    const template = `x/${Array.from({ length: 50 }, (_, i) => `{p${i}}-`).join("")}!`;
    const value = "a-".repeat(30_000);
    const counter: StepCounter = { steps: 0 };
    expect(topicMatchesTemplate(`x/${value}`, template, counter)).toBe(false);
    expect(topicMatchesTemplate(`x/${value}!`, template, counter)).toBe(true);
    expect(counter.steps).toBeLessThan(6 * value.length);
    const index = new TemplateIndex<number>();
    index.add(template, 1);
    expect(index.matchTopic(`x/${value}`)).toEqual([]);
    expect(index.matchFilter(`x/${value}!`).map((h) => h.value)).toEqual([1]);
  });
});

describe("TemplateIndex", () => {
  const index = new TemplateIndex<string>();
  const addresses = [
    "plant/{lineId}/temperature",
    "plant/line-{lineId}/temperature",
    "plant/main/temperature",
    "plant/{lineId}/vibration",
    "plant",
    "$SYS/broker/uptime",
    "{tenant}/events",
    "orders/{region}/created",
  ];
  for (const a of addresses) index.add(a, a);
  const values = (hits: { value: string }[]) => hits.map((h) => h.value).sort();

  it("refuses invalid templates", () => {
    expect(index.add("a/+", "bad")).toBe(false);
    expect(index.size).toBe(addresses.length);
  });
  it("matches topics against many templates", () => {
    expect(values(index.matchTopic("plant/line-7/temperature"))).toEqual(["plant/line-{lineId}/temperature", "plant/{lineId}/temperature"]);
    expect(values(index.matchTopic("plant/main/temperature"))).toEqual(["plant/main/temperature", "plant/{lineId}/temperature"]);
    expect(values(index.matchTopic("acme/events"))).toEqual(["{tenant}/events"]);
    expect(index.matchTopic("a/+")).toEqual([]);
  });
  it("matches filters against many templates, $ topics excluded from leading wildcards", () => {
    // `{tenant}/events` too: tenant "plant".
    expect(values(index.matchFilter("plant/#"))).toEqual([...addresses.filter((a) => a.startsWith("plant")), "{tenant}/events"].sort());
    expect(values(index.matchFilter("#"))).toEqual(addresses.filter((a) => !a.startsWith("$")).sort());
    expect(values(index.matchFilter("+/broker/uptime"))).toEqual([]);
    expect(values(index.matchFilter("+/broker/uptime", { reservedTopics: true }))).toEqual(["$SYS/broker/uptime"]);
    // A parameter value may be `$SYS`: the $ rule is about wildcards only.
    expect(values(index.matchFilter("$SYS/#"))).toEqual(["$SYS/broker/uptime", "{tenant}/events"]);
    expect(values(index.matchFilter("+/events"))).toEqual(["{tenant}/events"]);
  });
  it("agrees with the pairwise functions on random inputs", () => {
    const level = fc.constantFrom("a", "b", "", "$s", "{x}", "a{x}", "{x}-{y}", "{x}{y}");
    const query = fc.constantFrom("a", "b", "", "$s", "a-b", "ab", "+", "#");
    fc.assert(
      fc.property(fc.array(fc.array(level, { minLength: 1, maxLength: 3 }), { maxLength: 8 }), fc.array(query, { minLength: 1, maxLength: 4 }), (templates, queryLevels) => {
        const idx = new TemplateIndex<string>();
        const texts = [...new Set(templates.map((t) => t.join("/")))];
        for (const t of texts) idx.add(t, t);
        const q = queryLevels.join("/");
        const expected = texts.filter((t) => filterOverlapsTemplate(q, t)).sort();
        expect(values(idx.matchFilter(q))).toEqual(isValidFilter(q) ? expected : []);
      }),
      { numRuns: 500 },
    );
  });
});

describe("FilterIndex", () => {
  const values = (hits: { value: string }[]) => hits.map((h) => h.value).sort();

  it("gives the shared cases' answers, filters indexed and templates or topics looked up", () => {
    const index = new FilterIndex<string>();
    const queries = [...new Set([...templateCases.map((c) => c.query), ...filterCases.map((c) => c.filter)])];
    for (const q of queries) index.set(q, q);
    for (const c of templateCases) {
      const hits = values(index.matchTemplate(c.template));
      expect(hits.includes(c.query), `${c.query} vs ${c.template}`).toBe(c.expected);
      expect(hits).toEqual(queries.filter((q) => filterOverlapsTemplate(q, c.template)).sort());
    }
    for (const c of filterCases) {
      const hits = values(index.matchTopic(c.topic));
      expect(hits.includes(c.filter), `${c.filter} vs ${c.topic}`).toBe(c.expected);
      expect(hits).toEqual(queries.filter((q) => filterMatchesTopic(q, c.topic)).sort());
    }
  });

  it("stores one value per filter, refuses invalid filters and prunes on delete", () => {
    const index = new FilterIndex<number>();
    expect(index.set("a/#/b", 1)).toBe(false);
    for (const f of ["a/+/c", "a/#", "#", "a", "+", "a/b/c"]) expect(index.set(f, 1)).toBe(true);
    expect(index.set("a/#", 2)).toBe(true);
    expect(index.size).toBe(6);
    expect(index.get("a/#")).toBe(2);
    expect(index.get("a/+")).toBeUndefined();
    expect(index.delete("a/+")).toBe(false);
    for (const f of ["a/+/c", "a/#", "#", "a", "+", "a/b/c"]) expect(index.delete(f), f).toBe(true);
    expect(index.delete("a")).toBe(false);
    expect([index.size, index.nodes]).toEqual([0, 1]);
  });

  it("agrees with the pairwise functions on random inputs", () => {
    const filterLevel = fc.constantFrom("a", "b", "", "$s", "a-b", "+", "#");
    const level = fc.constantFrom("a", "b", "", "$s", "{x}", "a{x}", "{x}-{y}", "$s{x}");
    fc.assert(
      fc.property(
        fc.array(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), { maxLength: 10 }),
        fc.array(level, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (filters, templateLevels, reservedTopics) => {
          const idx = new FilterIndex<string>();
          const texts = [...new Set(filters.map((f) => f.join("/")))].filter(isValidFilter);
          for (const f of texts) idx.set(f, f);
          const t = templateLevels.join("/");
          expect(values(idx.matchTemplate(t, { reservedTopics }))).toEqual(texts.filter((f) => filterOverlapsTemplate(f, t, { reservedTopics })).sort());
          if (isValidTopic(t)) expect(values(idx.matchTopic(t))).toEqual(texts.filter((f) => filterMatchesTopic(f, t)).sort());
          for (const f of texts) idx.delete(f);
          expect([idx.size, idx.nodes]).toEqual([0, 1]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("walks only the branches that can match", () => {
    const index = new FilterIndex<number>();
    for (let i = 0; i < 5_000; i++) index.set(`site/s${i}/+/temperature`, i);
    index.set("#", -1);
    const counter: StepCounter = { steps: 0 };
    expect(index.matchTopic("site/s42/d1/temperature", counter).map((h) => h.value).sort((a, b) => a - b)).toEqual([-1, 42]);
    expect(counter.steps).toBeLessThan(20);
  });
});
