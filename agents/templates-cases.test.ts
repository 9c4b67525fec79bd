import { describe, expect, it } from "vitest";
import { filterCases, templateCases } from "../registry/topics/cases.ts";
import { compileChannels, filterMatches, matchChannel } from "./templates.ts";

const isFilter = (query: string) => query.includes("+") || query.includes("#");
const channel = (address: string) => ({ address, application: "app", contractVersion: "1.0.0" });

describe("agent labelling against the shared topic cases (registry/topics/cases.ts)", () => {
  it.each(templateCases.filter((c) => !isFilter(c.query)).map((c) => [c.query, c.template, c.expected, c.why] as const))(
    "labels %s with %s → %s (%s)",
    (topic, template, expected) => {
      expect(matchChannel(topic, compileChannels([channel(template)])) !== null).toBe(expected);
    },
  );
  it.each(templateCases.filter((c) => isFilter(c.query)).map((c) => [c.query, c.template, c.expected, c.why] as const))(
    "filter %s reaches %s → %s (%s)",
    (filter, template, expected) => {
      expect(filterMatches(filter, template)).toBe(expected);
    },
  );
  it.each(filterCases.map((c) => [c.filter, c.topic, c.expected, c.why] as const))("filter %s vs topic %s → %s (%s)", (filter, topic, expected) => {
    expect(filterMatches(filter, topic)).toBe(expected);
  });
  it("labels every case at once from one compiled list", () => {
    const matchers = compileChannels([...new Set(templateCases.map((c) => c.template))].map(channel));
    for (const c of templateCases.filter((x) => !isFilter(x.query) && x.expected)) {
      expect(matchChannel(c.query, matchers), c.query).not.toBeNull();
    }
  });
});
