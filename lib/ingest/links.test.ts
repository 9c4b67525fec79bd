import { describe, expect, it } from "vitest";
import { hostPort, resolveRemote } from "./links.ts";

const brokers = [
  { id: "plant-eu", url: "mqtt://127.0.0.1:1883" },
  { id: "plant-us", url: "mqtt://127.0.0.1:1884" },
  { id: "plant-us-2", url: "" },
  { id: "orders-nats", url: "nats://nats.internal" },
  { id: "billing", url: "amqp://rabbit.eu.example" },
];

describe("resolveRemote", () => {
  it("finds a broker by its URL's host and port, the scheme's default port when it names none", () => {
    expect(resolveRemote("mqtt://127.0.0.1:1884", "plant-eu", brokers)).toBe("plant-us");
    expect(resolveRemote("nats-leaf://nats.internal:4222", "x", brokers)).toBe("orders-nats");
    expect(resolveRemote("amqp://RABBIT.eu.example:5672/%2f", "x", brokers)).toBe("billing");
  });

  it("does not take a longer host or port for the broker's", () => {
    expect(resolveRemote("mqtt://127.0.0.1:18830", "x", brokers)).toBeNull();
    expect(resolveRemote("amqp://old.rabbit.eu.example:5672", "x", brokers)).toBeNull();
    expect(resolveRemote("mqtt://10.127.0.0.1:1883", "x", brokers)).toBeNull();
  });

  it("finds a broker by its id as a whole word, the longest one when ids overlap, never the reporting broker", () => {
    expect(resolveRemote("bridge-plant-us", "plant-eu", brokers)).toBe("plant-us");
    expect(resolveRemote("bridge-plant-us-2.out", "plant-eu", brokers)).toBe("plant-us-2");
    expect(resolveRemote("plant-usa", "plant-eu", brokers)).toBeNull();
    expect(resolveRemote("plant-eu.bridge", "plant-eu", brokers)).toBeNull();
  });

  it("does not tell a broker by an id too short to be more than a common word", () => {
    const short = [{ id: "eu", url: "" }, { id: "core", url: "" }, { id: "cloud-core", url: "" }];
    expect(resolveRemote("bridge-plant-eu", "x", short)).toBeNull();
    expect(resolveRemote("core.bridge", "x", short)).toBeNull();
    expect(resolveRemote("plant-eu.cloud-core@127.0.0.1:51234", "x", short)).toBe("cloud-core");
  });

  it("prefers a URL match to an id match, and is the same whatever order the brokers come in", () => {
    const remote = "plant-us via mqtt://127.0.0.1:1883";
    expect(resolveRemote(remote, "x", brokers)).toBe("plant-eu");
    expect(resolveRemote(remote, "x", [...brokers].reverse())).toBe("plant-eu");
    expect(resolveRemote("", "x", brokers)).toBeNull();
  });

  it("reads host:port from broker URLs", () => {
    expect(hostPort("amqps://h:1")).toBe("h:1");
    expect(hostPort("amqps://h")).toBe("h:5671");
    expect(hostPort("kafka://h")).toBeNull();
    expect(hostPort("not a url")).toBeNull();
  });
});
