import { describe, expect, it } from "vitest";
import { filterCases, templateCases } from "@/registry/topics/cases.ts";
import { isParameterLevel, isValidMqttFilter, literalFirstLevel, subscriptionFilterFor, topicMatchesTemplate, topicQueryShape } from "./topics.ts";

const template = "plant/{lineId}/temperature";

describe("topicMatchesTemplate", () => {
  it("finds a template by wildcard filters", () => {
    expect(topicMatchesTemplate("plant/+/temperature", template)).toBe(true);
    expect(topicMatchesTemplate("plant/#", template)).toBe(true);
    expect(topicMatchesTemplate("#", template)).toBe(true);
    expect(topicMatchesTemplate("+/+/+", template)).toBe(true);
    expect(topicMatchesTemplate("plant/+/vibration", template)).toBe(false);
    expect(topicMatchesTemplate("plant/+", template)).toBe(false);
    expect(topicMatchesTemplate("orders/#", template)).toBe(false);
  });
  it("finds the template of a concrete topic", () => {
    expect(topicMatchesTemplate("plant/line-7/temperature", template)).toBe(true);
    expect(topicMatchesTemplate("plant/line-7/temperature/extra", template)).toBe(false);
    expect(topicMatchesTemplate("plant/l1/x", "plant/line-{n}/x")).toBe(false);
    expect(topicMatchesTemplate("plant/line-1/x", "plant/line-{n}/x")).toBe(true);
  });
  it("lets # match the parent level too, as MQTT does", () => {
    expect(topicMatchesTemplate("plant/#", "plant")).toBe(true);
  });
  it("matches literal levels exactly, regex characters included", () => {
    expect(topicMatchesTemplate("a.b/c", "a.b/c")).toBe(true);
    expect(topicMatchesTemplate("axb/c", "a.b/c")).toBe(false);
    expect(topicMatchesTemplate("a/{x}", "a/{y}")).toBe(true);
  });
  it("keeps $ topics out of leading wildcards (MQTT §4.7.2)", () => {
    // Was true: the old matcher ignored the $ rule that the agent and brokers apply.
    expect(topicMatchesTemplate("#", "$SYS/broker/uptime")).toBe(false);
    expect(topicMatchesTemplate("$SYS/#", "$SYS/broker/uptime")).toBe(true);
  });
  it("reads a brace in a query as text, not as a parameter", () => {
    // Was true: a query is a filter or a topic, where `{x}` is the literal value "{x}", which `line-{n}` cannot take.
    expect(topicMatchesTemplate("plant/{x}/t", "plant/line-{n}/t")).toBe(false);
  });
  it("answers a crafted address with many adjacent parameters at once", () => {
    const address = `x/${Array.from({ length: 50 }, (_, i) => `{p${i}}`).join("")}z`;
    expect(topicMatchesTemplate(`x/${"a".repeat(60_000)}`, address)).toBe(false);
    expect(topicMatchesTemplate(`x/${"a".repeat(60_000)}z`, address)).toBe(true);
  });
});

describe("shared topic cases (registry/topics/cases.ts)", () => {
  it.each(templateCases.map((c) => [c.query, c.template, c.expected, c.why] as const))("%s vs %s → %s (%s)", (query, template, expected) => {
    expect(topicMatchesTemplate(query, template)).toBe(expected);
  });
  it.each(filterCases.map((c) => [c.filter, c.topic, c.expected, c.why] as const))("filter %s vs concrete %s → %s (%s)", (filter, topic, expected) => {
    // A template without parameters is a topic, so the portal's matcher answers filter-vs-topic too.
    expect(topicMatchesTemplate(filter, topic)).toBe(expected);
  });
});

describe("helpers", () => {
  it("describes query shapes for narrowing", () => {
    expect(topicQueryShape("plant/+/temperature")).toEqual({ levels: 3, atLeast: false, firstLevel: "plant" });
    expect(topicQueryShape("plant/#")).toEqual({ levels: 1, atLeast: true, firstLevel: "plant" });
    expect(topicQueryShape("+/x")).toEqual({ levels: 2, atLeast: false, firstLevel: null });
    expect(topicQueryShape("#")).toEqual({ levels: 0, atLeast: true, firstLevel: null });
  });
  it("finds parameter levels and literal first levels", () => {
    expect(isParameterLevel("line-{id}")).toBe(true);
    expect(isParameterLevel("{}x}")).toBe(false);
    expect(isParameterLevel("{".repeat(50_000))).toBe(false);
    expect(literalFirstLevel("plant/{x}")).toBe("plant");
    expect(literalFirstLevel("line-{x}/y")).toBeNull();
    expect(isValidMqttFilter("plant/+/t")).toBe(true);
  });
  it("derives the subscription filter of a template", () => {
    expect(subscriptionFilterFor(template)).toBe("plant/+/temperature");
    expect(subscriptionFilterFor("energy/{site}/{meter}/reading")).toBe("energy/+/+/reading");
    expect(subscriptionFilterFor("plant/line-{n}/x")).toBe("plant/+/x");
    expect(subscriptionFilterFor("legacy/{broken")).toBe("legacy/{broken");
  });
});
