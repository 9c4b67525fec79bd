import { describe, expect, it } from "vitest";
import { brokerBindingSchema, matchesBrokerBinding } from "./binding.ts";

describe("broker binding", () => {
  it("matches one id exactly, or a * glob", () => {
    expect(matchesBrokerBinding("plant-eu", "plant-eu")).toBe(true);
    expect(matchesBrokerBinding("plant-eu", "plant-eu2")).toBe(false);
    expect(matchesBrokerBinding("plant-*", "plant-eu")).toBe(true);
    expect(matchesBrokerBinding("plant-*", "plant-")).toBe(true);
    expect(matchesBrokerBinding("plant-*", "plants-eu")).toBe(false);
    expect(matchesBrokerBinding("*-eu", "plant-eu")).toBe(true);
    expect(matchesBrokerBinding("*-eu", "plant-us")).toBe(false);
    expect(matchesBrokerBinding("p*t*u", "plant-eu")).toBe(true);
    expect(matchesBrokerBinding("p*t*x", "plant-eu")).toBe(false);
    expect(matchesBrokerBinding("*", "anything")).toBe(true);
  });

  it("treats regular-expression characters literally", () => {
    expect(matchesBrokerBinding("plant.eu", "plantxeu")).toBe(false);
    expect(matchesBrokerBinding("plant.eu", "plant.eu")).toBe(true);
  });

  it("stays linear-ish on patterns that make backtracking regexes explode", () => {
    const id = "a".repeat(100);
    expect(matchesBrokerBinding("*a*a*a*a*a*a*a*a*a*b", id)).toBe(false);
  });

  it("accepts ids and star patterns that follow the broker id rule", () => {
    expect(brokerBindingSchema.parse(" Plant-EU ")).toBe("plant-eu");
    expect(brokerBindingSchema.parse("plant-**")).toBe("plant-*");
    expect(brokerBindingSchema.parse("*")).toBe("*");
    for (const bad of ["", "plant eu", "plant-(eu|us)", "-*", "plant/eu", "x".repeat(101)]) {
      expect(brokerBindingSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});
