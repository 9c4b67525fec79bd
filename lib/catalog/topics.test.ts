import { describe, expect, it } from "vitest";
import { subscriptionFilterFor, topicMatchesTemplate, topicQueryShape } from "./topics.ts";

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
});

describe("helpers", () => {
  it("describes query shapes for narrowing", () => {
    expect(topicQueryShape("plant/+/temperature")).toEqual({ levels: 3, atLeast: false, firstLevel: "plant" });
    expect(topicQueryShape("plant/#")).toEqual({ levels: 1, atLeast: true, firstLevel: "plant" });
    expect(topicQueryShape("+/x")).toEqual({ levels: 2, atLeast: false, firstLevel: null });
  });
  it("derives the subscription filter of a template", () => {
    expect(subscriptionFilterFor(template)).toBe("plant/+/temperature");
    expect(subscriptionFilterFor("energy/{site}/{meter}/reading")).toBe("energy/+/+/reading");
  });
});
