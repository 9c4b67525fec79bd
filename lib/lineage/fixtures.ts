/** A lineage as the service returns it, for the tests of its files and its page. */
import type { ChannelLineage } from "./lineage.ts";

const app = (slug: string) => ({ id: `app_${slug}`, slug, name: slug, team: { slug: "t", name: "T" } });

export const sampleLineage: ChannelLineage = {
  channel: "plant/{lineId}/temperature",
  message: null,
  application: null,
  at: null,
  window: null,
  generatedAt: "2026-12-01T12:00:00.000Z",
  declaredChannels: ["plant/{lineId}/temperature"],
  producers: [
    {
      application: app("line-sensors"),
      mark: "both",
      declared: [{ version: "2.0.0", channel: "plant/{lineId}/temperature", messages: ["reading"] }],
      observed: [
        { brokerId: "edge", template: "plant/{p1}/temperature", clientId: "sensor-1", messages: 5, filter: null, lastSeen: "2026-12-01T10:00:00.000Z" },
        { brokerId: "edge", template: "plant/{p1}/temperature", clientId: "sensor-2", messages: 5, filter: null, lastSeen: "2026-12-01T11:00:00.000Z" },
      ],
    },
  ],
  consumers: [
    { application: app("dashboard"), mark: "declared", declared: [{ version: "1.0.0", channel: "plant/{line}/temperature", messages: ["m"] }], observed: [] },
  ],
  unknownClients: [{ brokerId: "core", template: "plant/{p1}/temperature", clientId: "=HYPERLINK(\"x\")", role: "consumer", messages: null, filter: "#", lastSeen: null }],
  brokers: [
    { brokerId: "edge", name: "Edge", observed: true, hop: null, topics: [], messages: 10, ratePerSecond: 1, firstSeen: null, lastSeen: "2026-12-01T11:00:00.000Z" },
    { brokerId: "core", name: "Core", observed: true, hop: 1, topics: [], messages: 10, ratePerSecond: 1, firstSeen: null, lastSeen: "2026-12-01T11:30:00.000Z" },
  ],
  bridges: [{ id: "brg_1", fromBrokerId: "edge", toBrokerId: "core", topicFilter: "plant/#", direction: "out", reverse: false, hop: 1 }],
  versions: [
    {
      application: { slug: "line-sensors", name: "Line sensors" },
      version: "1.0.0",
      state: "deprecated",
      publishedAt: "2026-11-01T00:00:00.000Z",
      publishedByLabel: "ada@example.com",
      changeRequest: null,
      action: "send",
      schemas: [{ channel: "plant/{lineId}/temperature", messageKey: "reading", payloadSchemaId: 1 }],
      change: "added",
      schemaChanged: false,
    },
    {
      application: { slug: "line-sensors", name: "Line sensors" },
      version: "2.0.0",
      state: "released",
      publishedAt: "2026-11-20T00:00:00.000Z",
      publishedByLabel: "-ben, \"the\" reviewer",
      changeRequest: { id: "cr_1", number: 7 },
      action: "send",
      schemas: [{ channel: "plant/{lineId}/temperature", messageKey: "reading", payloadSchemaId: 2 }],
      change: "changed",
      schemaChanged: true,
    },
  ],
  changes: { visible: true, entries: [], truncated: false },
  truncated: false,
};

