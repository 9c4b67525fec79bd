/**
 * Generators of synthetic AsyncAPI contracts for benchmarks and scale tests.
 * Deterministic: the same arguments always give the same text.
 */

/** Options of {@link generateContract}. */
export interface GenerateOptions {
  /** Number of channels (each with one operation and one message). */
  channels: number;
  /** Number of payload properties per message. */
  properties?: number;
  /** Seed that varies descriptions, so two seeds give two different versions. */
  variant?: number;
}

/** Generates an AsyncAPI 3.0 YAML contract with `channels` channels; 1,000 channels with 12 properties is about 2 MB. */
export function generateContract(options: GenerateOptions): string {
  const properties = options.properties ?? 12;
  const variant = options.variant ?? 0;
  const out: string[] = [];
  out.push(
    "asyncapi: 3.0.0",
    "info:",
    "  title: Generated plant telemetry",
    `  version: 1.${variant}.0`,
    "  description: Synthetic contract used to measure the contract engine at scale.",
    "servers:",
    "  production:",
    "    host: broker.example.com:8883",
    "    protocol: mqtt",
    "    description: Production broker",
    "channels:",
  );
  for (let i = 0; i < options.channels; i++) {
    out.push(
      `  line${i}:`,
      `    address: 'plant/{plantId}/line${i}/telemetry'`,
      `    description: Telemetry of production line ${i}, published every second by every sensor gateway of the plant.`,
      "    parameters:",
      "      plantId:",
      "        description: Identifier of the plant.",
      "    messages:",
      `      reading${i}:`,
      `        $ref: '#/components/messages/reading${i}'`,
    );
  }
  out.push("operations:");
  for (let i = 0; i < options.channels; i++) {
    out.push(
      `  sendReading${i}:`,
      "    action: send",
      "    channel:",
      `      $ref: '#/channels/line${i}'`,
      `    summary: Publishes a reading of line ${i}.`,
      "    messages:",
      `      - $ref: '#/channels/line${i}/messages/reading${i}'`,
    );
  }
  out.push("components:", "  messages:");
  for (let i = 0; i < options.channels; i++) {
    out.push(
      `    reading${i}:`,
      `      name: reading${i}`,
      `      title: Reading of line ${i}`,
      "      contentType: application/json",
      `      summary: One measurement of line ${i} (variant ${variant}).`,
      "      payload:",
      "        type: object",
      "        additionalProperties: false",
      "        required: [sensorId, value, sentAt]",
      "        properties:",
      "          sensorId:",
      "            type: string",
      "            description: Identifier of the sensor that took the measurement.",
      "            maxLength: 64",
      "          value:",
      "            type: number",
      "            description: Measured value in the unit of the sensor.",
      "            minimum: -1000",
      "            maximum: 1000",
      "          sentAt:",
      "            type: string",
      "            format: date-time",
      "            description: Date and time when the measurement was sent.",
    );
    for (let p = 3; p < properties; p++) {
      out.push(
        `          field${p}:`,
        p % 3 === 0 ? "            type: integer" : p % 3 === 1 ? "            type: string" : "            type: boolean",
        `            description: Auxiliary field ${p} of line ${i}, kept for the downstream analytics jobs.`,
      );
    }
    out.push("      examples:", "        - payload:", "            sensorId: s-1", "            value: 21.5", "            sentAt: '2026-01-01T00:00:00Z'");
  }
  return out.join("\n") + "\n";
}
