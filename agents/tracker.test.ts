import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterCases, templateCases } from "../registry/topics/cases.ts";
import { filterOverlapsTemplate } from "../registry/topics/index.ts";
import { filterMatches, TemplateTrie } from "./templates.ts";
import { ConsumerTracker } from "./tracker.ts";

const filtersOf = (t: ConsumerTracker, template: string) => t.consumersOf(template).consumers.map((c) => c.filter);

/** Runs fn with every RegExp construction counted (regex literals in module code are not constructions). */
function countingRegExps<T>(fn: () => T): { result: T; built: number } {
  const original = globalThis.RegExp;
  let built = 0;
  globalThis.RegExp = new Proxy(original, {
    construct(target, args, newTarget) {
      built++;
      return Reflect.construct(target, args, newTarget) as object;
    },
    apply(target, self, args) {
      built++;
      return Reflect.apply(target, self, args) as RegExp;
    },
  });
  try {
    return { result: fn(), built };
  } finally {
    globalThis.RegExp = original;
  }
}

describe("consumer tracking against the shared topic cases (registry/topics/cases.ts)", () => {
  it.each(templateCases.map((c) => [c.query, c.template, c.expected, c.why] as const))("subscriber of %s consumes %s → %s (%s)", (filter, template, expected) => {
    const t = new ConsumerTracker();
    t.subscribed("c", filter, 1);
    expect(t.consumersOf(template).consumers.length > 0).toBe(expected);
  });
  it.each(filterCases.map((c) => [c.filter, c.topic, c.expected, c.why] as const))("subscriber of %s consumes topic %s → %s (%s)", (filter, topic, expected) => {
    const t = new ConsumerTracker();
    t.subscribed("c", filter, 0);
    expect(t.consumersOf(topic).consumers.length > 0).toBe(expected);
  });
  it("answers every case at once from one index, as the agent's labelling and the portal's algebra do", () => {
    const t = new ConsumerTracker({ maxFiltersPerClient: 1_000 });
    const filters = [...new Set([...templateCases.map((c) => c.query), ...filterCases.map((c) => c.filter)])];
    for (const f of filters) t.subscribed("all", f, 0);
    for (const key of new Set([...templateCases.map((c) => c.template), ...filterCases.map((c) => c.topic)])) {
      expect(filtersOf(t, key).sort(), key).toEqual(filters.filter((f) => filterMatches(f, key)).sort());
    }
  });
});

describe("consumers of the agent's learned templates", () => {
  const t = new ConsumerTracker();
  for (const f of ["#", "+/broker/uptime", "$SYS/#", "$SYS/+/uptime", "plant/line-7/#", "plant/+/temperature", "plant//temperature", "plant/line-/x", "+/+"]) {
    t.subscribed(`c:${f}`, f, 0);
  }
  it.each([
    // A placeholder is no wildcard: it may stand for `$SYS` (a subscriber of $SYS/# gets some of it), and for other roots too.
    ["{p0}/broker/uptime", ["#", "$SYS/#", "$SYS/+/uptime", "+/broker/uptime"]],
    // Every instance starts with $: leading wildcards stay out (MQTT §4.7.2).
    ["$SYS/broker/{p2}", ["$SYS/#", "$SYS/+/uptime"]],
    ["$SYS/{p1}/uptime", ["$SYS/#", "$SYS/+/uptime"]],
    // A placeholder takes one non-empty level: plant//temperature is no instance, plant/line-7/temperature is.
    ["plant/{p1}/temperature", ["#", "plant/+/temperature", "plant/line-7/#"]],
    // plant/line-7/# also receives plant/line-7 itself (MQTT §4.7.1.2).
    ["plant/{p1}", ["#", "+/+", "plant/line-7/#"]],
    // A parameter inside a level (a contract address, or a topic written like one) takes the rest of it.
    ["plant/line-{p1}/temperature", ["#", "plant/+/temperature", "plant/line-7/#"]],
    ["plant/line-{p1}/x", ["#", "plant/line-7/#"]],
    // Concrete topics.
    ["plant//temperature", ["#", "plant/+/temperature", "plant//temperature"]],
    ["$SYS/broker/uptime", ["$SYS/#", "$SYS/+/uptime"]],
    // No valid address (unclosed brace): read as a concrete topic name.
    ["plant/{p1", ["#", "+/+"]],
  ])("%s", (template, expected) => {
    expect(filtersOf(t, template).sort()).toEqual([...expected].sort());
    for (const f of expected) expect(filterMatches(f, template), f).toBe(true);
  });

  it("agrees with the agent's filterMatches on random filters and the trie's templates", () => {
    const filterLevel = fc.constantFrom("plant", "line-7", "", "$SYS", "7", "+", "#");
    const topicLevel = fc.constantFrom("plant", "line-7", "line-8", "", "$SYS", "7", "8", "x");
    fc.assert(
      fc.property(
        fc.array(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), { maxLength: 12 }),
        fc.array(fc.array(topicLevel, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        (filters, topics) => {
          const trie = new TemplateTrie({ collapseThreshold: 2 });
          const keys = new Set(topics.map((levels) => trie.resolve(levels.join("/"))));
          for (const levels of topics) keys.add(levels.join("/"));
          const tracker = new ConsumerTracker();
          const texts = [...new Set(filters.map((f) => f.join("/")))];
          texts.forEach((f, i) => tracker.subscribed(`c${i}`, f, 0));
          for (const key of keys) expect(filtersOf(tracker, key).sort(), key).toEqual(texts.filter((f) => filterMatches(f, key)).sort());
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("ConsumerTracker index", () => {
  it("matches many filters against many topics by walking the trie, not by scanning (step counter) nor by RegExp", () => {
    const sites = 1_000;
    const t = new ConsumerTracker({ maxFiltersPerClient: 10 });
    const { built } = countingRegExps(() => {
      for (let i = 0; i < sites; i++) {
        t.subscribed(`dash-${i}`, `site/s${i}/+/temperature`, 1);
        t.subscribed(`archive-${i}`, `site/s${i}/#`, 0);
        t.subscribed(`device-${i}`, `site/s${i}/d${i}/temperature`, 2);
        t.subscribed(`sys-${i}`, `$SYS/broker/s${i}`, 0);
      }
      t.subscribed("all", "#", 0);
      t.subscribed("temps", "+/+/+/temperature", 0);
    });
    expect(built).toBe(0);
    const filters = 4 * sites + 2;
    expect(t.indexSize.filters).toBe(filters);

    // 2,000 concrete topics and 1,000 learned templates, each against 4,002 filters.
    const queries: [string, string[]][] = [];
    for (let i = 0; i < sites; i++) {
      queries.push([`site/s${i}/d${i}/temperature`, ["#", "+/+/+/temperature", `site/s${i}/#`, `site/s${i}/+/temperature`, `site/s${i}/d${i}/temperature`]]);
      queries.push([`site/s${i}/d${i + 1}/humidity`, ["#", `site/s${i}/#`]]);
      queries.push([`site/s${i}/{p2}/temperature`, ["#", "+/+/+/temperature", `site/s${i}/#`, `site/s${i}/+/temperature`, `site/s${i}/d${i}/temperature`]]);
    }
    const before = t.matching.steps;
    const { result: answers, built: builtWhileMatching } = countingRegExps(() => queries.map(([q]) => filtersOf(t, q).sort()));
    expect(builtWhileMatching).toBe(0);
    answers.forEach((answer, i) => expect(answer, queries[i]![0]).toEqual([...queries[i]![1]].sort()));
    // Behaviour against the pairwise function on a sample (the full cross product is 12 million pairs).
    const all = [...new Set(answers.flat()), ...Array.from({ length: sites }, (_, i) => `$SYS/broker/s${i}`)];
    for (const [q] of queries.slice(0, 30)) expect(filtersOf(t, q).sort()).toEqual(all.filter((f) => filterOverlapsTemplate(f, q)).sort());
    // A scan would compare every filter with every query: 3,000 × 4,002 steps. The trie walks a few nodes per level and hit.
    const steps = t.matching.steps - before;
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(queries.length * 20);
    expect(steps).toBeLessThan((queries.length * filters) / 100);
  });

  it("holds only live subscriptions: emptied filters and branches go, invalid filters take no slot", () => {
    const t = new ConsumerTracker({ maxClients: 100, maxFiltersPerClient: 5 });
    for (let c = 0; c < 100; c++) for (let f = 0; f < 10; f++) t.subscribed(`c${c}`, `a/${c}/${f}/+/#`, 0);
    expect(t.dropped).toBe(500);
    expect(t.indexSize.filters).toBe(500);
    t.subscribed("c0", "a/#/b", 0);
    t.subscribed("c0", "a/b+", 0);
    t.subscribed("new", "", 0);
    expect(t.invalid).toBe(3);
    expect(t.consumerCount).toBe(100);
    t.unsubscribed("c0", "a/0/0/+/#");
    expect(t.consumersOf("a/0/0/x").consumers).toEqual([]);
    expect(t.consumersOf("a/0/1/x").consumers).toEqual([{ clientId: "c0", filter: "a/0/1/+/#", qos: 0 }]);
    for (let c = 0; c < 100; c++) t.forget(`c${c}`);
    expect(t.consumerCount).toBe(0);
    expect(t.indexSize).toEqual({ filters: 0, nodes: 1 });
  });

  it("keeps a shared filter while another client still holds it, with each client's qos", () => {
    const t = new ConsumerTracker();
    t.subscribed("a", "x/+", 0);
    t.subscribed("b", "x/+", 2);
    t.subscribed("a", "x/+", 1);
    expect(t.consumersOf("x/{p1}").consumers).toEqual([
      { clientId: "a", filter: "x/+", qos: 1 },
      { clientId: "b", filter: "x/+", qos: 2 },
    ]);
    t.unsubscribed("a", "x/+");
    expect(t.consumersOf("x/y").consumers).toEqual([{ clientId: "b", filter: "x/+", qos: 2 }]);
    expect(t.consumersOf("x/y", 0)).toEqual({ consumers: [], omitted: 1 });
  });
});

describe("no RegExp from input in agents/", () => {
  it("builds no RegExp at run time anywhere in the agent's sources", () => {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    const sources = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(10);
    for (const file of sources) {
      const text = readFileSync(join(dir, file), "utf8");
      expect(/\bRegExp\s*\(/.test(text), file).toBe(false);
    }
  });
});
