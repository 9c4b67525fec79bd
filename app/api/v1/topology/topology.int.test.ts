import { beforeAll, expect, it } from "vitest";
import { broker, brokerTopic } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as svgRoute from "../topology.svg/route.ts";
import * as jsonRoute from "./route.ts";

const BASE = "http://localhost:3000";

function call(handler: (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>, path: string, token?: string, method = "GET") {
  const headers = new Headers(token ? { authorization: `Bearer ${token}` } : {});
  return handler(new Request(`${BASE}${path}`, { method, headers }), { params: Promise.resolve({}) });
}

describeEachBackend("topology API", ({ handle }) => {
  let token: string;

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    token = (await createToken({ kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" }, { name: "reader", scopes: ["read"] })).secret;
    const now = new Date();
    await handle().db.insert(broker).values({ id: "plant-1", name: "Plant <1>" });
    await handle()
      .db.insert(brokerTopic)
      .values({
        brokerId: "plant-1", template: "plant/{p1}/temperature", firstSeen: now, lastSeen: now, totalMessages: 1, totalBytes: 1, lastRatePerSecond: 1, lastWindowEnd: now,
        contentKind: "json", distinctTopics: 1, topics: [{ topic: "plant/a/temperature", messages: 1 }], samples: [],
        producers: [{ clientId: "sensor-1", lastSeen: now.toISOString() }], consumers: [],
      });
  });

  it("answers the laid-out graph as JSON, with edge states, for a token with read", async () => {
    const response = await call(jsonRoute.GET, "/api/v1/topology?window=24h", token);
    expect(response.status).toBe(200);
    const { topology } = (await response.json()) as { topology: { nodes: Array<{ id: string; x: number }>; edges: Array<{ state: string; kind: string }>; totals: { brokers: number } } };
    expect(topology.nodes.map((n) => n.id).sort()).toEqual(["broker:plant-1", "channel:plant/{p1}/temperature", "client:sensor-1"]);
    expect(topology.edges.map((e) => `${e.kind}:${e.state}`).sort()).toEqual(["carried:observed", "send:observed"]);
    expect(topology.totals.brokers).toBe(1);
  });

  it("draws the same graph as an SVG document, escaped, with data-state on every edge", async () => {
    const response = await call(svgRoute.GET, "/api/v1/topology.svg", token);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    const svg = await response.text();
    expect(svg).toContain('data-testid="topology-node-client-sensor-1"');
    expect(svg).toContain("Plant &lt;1&gt;");
    expect(svg).toContain('href="http://localhost:3000/brokers/plant-1"');
    expect([...svg.matchAll(/data-state="(\w+)"/g)].map((m) => m[1])).toEqual(["observed", "observed"]);
  });

  it("refuses bad filters with 422, strangers with 401, and other methods with 405", async () => {
    const bad = await call(jsonRoute.GET, "/api/v1/topology?window=forever", token);
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    expect((await call(svgRoute.GET, "/api/v1/topology.svg?at=someday", token)).status).toBe(422);
    expect((await call(jsonRoute.GET, "/api/v1/topology")).status).toBe(401);
    expect(jsonRoute.POST(new Request(`${BASE}/api/v1/topology`, { method: "POST" })).status).toBe(405);
  });
});
