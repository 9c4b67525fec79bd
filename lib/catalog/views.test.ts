import { describe, expect, it } from "vitest";
import type { Channel, Contract } from "@/registry/index.ts";
import { subscriptionOf } from "./views.ts";

describe("subscriptionOf", () => {
  it("finds only the contract's own servers, whatever names a channel gives", () => {
    const contract = { servers: { plant: { name: "plant", protocol: "mqtt", url: "broker:1883" } } } as unknown as Contract;
    const channel = { address: "plant/{line}/temperature", servers: ["constructor", "toString", "__proto__", "plant"] } as unknown as Channel;
    expect(subscriptionOf(contract, channel)).toEqual({
      filter: "plant/+/temperature",
      servers: [{ name: "plant", url: "mqtt://broker:1883", protocol: "mqtt" }],
    });
  });
});
