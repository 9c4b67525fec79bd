import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AMQP_DIALECT, MQTT_DIALECT, NATS_DIALECT, parseTopic } from "../registry/topics/index.ts";
import { compileChannels, filterMatches, isIdLikeLevel, isValidTopic, matchChannel, TemplateTrie } from "./templates.ts";

describe("isIdLikeLevel", () => {
  it.each(["42", "-3.5", "6f1c3a2e-1b2c-4d3e-8f4a-5b6c7d8e9f00", "deadbeef01", "device42", "line-7", "SN_0042A", "01ARZ3NDEKTSV4RRFFQ69G5FAV"])("treats %s as an id", (l) => {
    expect(isIdLikeLevel(l)).toBe(true);
  });
  it.each(["plant", "temperature", "status", "eu-west", "", "cafe"])("keeps %s literal", (l) => {
    expect(isIdLikeLevel(l)).toBe(false);
  });
});

describe("TemplateTrie", () => {
  it("replaces id-like levels by positional placeholders", () => {
    const trie = new TemplateTrie();
    expect(trie.resolve("plant/line-7/temperature")).toBe("plant/{p1}/temperature");
    expect(trie.resolve("plant/6f1c3a2e-1b2c-4d3e-8f4a-5b6c7d8e9f00/temperature")).toBe("plant/{p1}/temperature");
    expect(trie.resolve("plant/status")).toBe("plant/status");
  });

  it("collapses a position once its distinct values pass the threshold", () => {
    const trie = new TemplateTrie({ collapseThreshold: 3 });
    const names = ["berlin", "paris", "rome", "madrid", "oslo"];
    const out = names.map((n) => trie.resolve(`site/${n}/temp`));
    expect(out.slice(0, 3)).toEqual(["site/berlin/temp", "site/paris/temp", "site/rome/temp"]);
    expect(out[3]).toBe("site/{p1}/temp");
    // Earlier literals resolve onto the placeholder once the position collapsed.
    expect(trie.resolve("site/berlin/temp")).toBe("site/{p1}/temp");
    expect(trie.resolve("site/{p1}/temp")).toBe("site/{p1}/temp");
  });

  it("peeks without learning", () => {
    const trie = new TemplateTrie({ collapseThreshold: 2 });
    trie.resolve("a/x/t");
    trie.resolve("a/y/t");
    trie.resolve("a/z/t");
    const size = trie.size;
    expect(trie.peek("a/w/t")).toBe("a/{p1}/t");
    expect(trie.peek("b/w/7")).toBe("b/w/{p2}");
    expect(trie.size).toBe(size);
  });

  it("stays bounded whatever the topics", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 5 }), { maxLength: 400 }), (topics) => {
        const trie = new TemplateTrie({ collapseThreshold: 5, maxNodes: 200 });
        for (const levels of topics) {
          const tpl = trie.resolve(levels.join("/"));
          expect(tpl.split("/").length).toBe(levels.length);
          expect(trie.size).toBeLessThanOrEqual(200 + 5);
        }
      }),
    );
  });
});

describe("matchChannel", () => {
  const matchers = compileChannels([
    { address: "plant/{lineId}/temperature", application: "line-monitor", contractVersion: "1.0.0" },
    { address: "plant/main/temperature", application: "main-monitor", contractVersion: "2.0.0" },
  ]);
  it("matches literal topics and agent templates, most specific first", () => {
    expect(matchChannel("plant/{p1}/temperature", matchers)?.application).toBe("line-monitor");
    expect(matchChannel("plant/main/temperature", matchers)?.application).toBe("main-monitor");
    expect(matchChannel("plant/x/pressure", matchers)).toBeNull();
    expect(matchChannel("plant/x/temperature/extra", matchers)).toBeNull();
  });
  it("labels parameters inside a level, and prefers the closer template", () => {
    const within = compileChannels([
      { address: "plant/line-{lineId}/temperature", application: "lines", contractVersion: "1.0.0" },
      { address: "plant/{site}/temperature", application: "sites", contractVersion: "1.0.0" },
      { address: "plant/main/temperature", application: "main", contractVersion: "1.0.0" },
    ]);
    // Was null before: `line-{lineId}` was compared as literal text.
    expect(matchChannel("plant/line-7/temperature", within)?.application).toBe("lines");
    expect(matchChannel("plant/main/temperature", within)?.application).toBe("main");
    expect(matchChannel("plant/hall/temperature", within)?.application).toBe("sites");
    expect(matchChannel("plant/{p1}/temperature", within)?.application).toBe("sites");
    // An empty level is no parameter value.
    expect(matchChannel("plant//temperature", within)).toBeNull();
  });
  it("lets a learned placeholder stand for a $ level", () => {
    const sys = compileChannels([{ address: "$SYS/broker/uptime", application: "broker", contractVersion: "1.0.0" }]);
    expect(matchChannel("{p0}/broker/uptime", sys)?.application).toBe("broker");
  });
  it("labels against a crafted address with many adjacent parameters at once", () => {
    const address = `x/${Array.from({ length: 50 }, (_, i) => `{p${i}}`).join("")}z`;
    const crafted = compileChannels([{ address, application: "crafted", contractVersion: "1.0.0" }]);
    expect(matchChannel(`x/${"a".repeat(60_000)}`, crafted)).toBeNull();
    expect(matchChannel(`x/${"a".repeat(60_000)}z`, crafted)?.application).toBe("crafted");
  });
  it("ignores invalid contract addresses", () => {
    const bad = compileChannels([{ address: "plant/+/temperature", application: "bad", contractVersion: "1.0.0" }]);
    expect(matchChannel("plant/x/temperature", bad)).toBeNull();
  });
});

describe("filterMatches", () => {
  it.each([
    ["#", "a/b", true],
    ["a/+/c", "a/b/c", true],
    ["a/+/c", "a/{p1}/c", true],
    ["a/x/c", "a/{p1}/c", true],
    ["a/#", "a", true],
    ["a/+", "a/b/c", false],
    ["#", "$SYS/broker/uptime", false],
    ["$SYS/#", "$SYS/broker/uptime", true],
    ["a/b", "a/b/c", false],
  ])("%s vs %s → %s", (filter, topic, expected) => {
    expect(filterMatches(filter, topic)).toBe(expected);
  });
});

describe("isValidTopic", () => {
  // The quick pass for plain names must agree with the parser on every name, in every dialect.
  it("agrees with parseTopic on arbitrary names", () => {
    const chars = fc.constantFrom("a", "Z", "7", "-", "/", ".", "+", "#", "*", ">", " ", "\t", "\u0000", "é", "$", "{", "}", "_");
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }), (parts) => {
        const name = parts.join("");
        for (const dialect of [MQTT_DIALECT, NATS_DIALECT, AMQP_DIALECT]) expect(isValidTopic(name, dialect)).toBe(parseTopic(name, dialect).ok);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("TemplateTrie.resolve", () => {
  it("gives the topics of one template one string, and a literal topic itself", () => {
    const trie = new TemplateTrie({ dialect: NATS_DIALECT });
    const a = trie.resolve("fleet.site1.device-1.telemetry");
    const b = trie.resolve("fleet.site2.device-2.telemetry");
    expect(a).toBe("fleet.{p1}.{p2}.telemetry");
    expect(b).toBe(a);
    const topic = ["orders", "created"].join(".");
    expect(trie.resolve(topic)).toBe("orders.created");
    // Collapsing a position still yields the parameter from then on.
    const small = new TemplateTrie({ dialect: NATS_DIALECT, collapseThreshold: 2 });
    expect(["a.x.z", "a.y.z", "a.w.z", "a.x.z"].map((t) => small.resolve(t))).toEqual(["a.x.z", "a.y.z", "a.{p1}.z", "a.{p1}.z"]);
  });
});
