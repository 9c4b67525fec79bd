/** AsyncAPI documents for the fault suite: large enough that a publish takes a while, each version distinct. */

/** Channels every version has; version n adds channels `extra/1` … `extra/n` (a minor, compatible change). */
export const BASE_CHANNELS = 100;

/** The channel count of version `1.n.0`. */
export function channelCount(n: number): number {
  return BASE_CHANNELS + n;
}

/** The version number of the n-th publish. */
export function versionNumber(n: number): string {
  return `1.${n}.0`;
}

/** A 3.0 document of version `1.n.0` for application `app`, with one send operation per channel; `author` marks who wrote it. */
export function largeContract(app: string, n: number, author = "faults"): string {
  const addresses = [
    ...Array.from({ length: BASE_CHANNELS }, (_, i) => `plant/{site}/line${i}/reading`),
    ...Array.from({ length: n }, (_, i) => `extra/${i + 1}/event`),
  ];
  const lines = [
    "asyncapi: 3.0.0",
    `info: { title: ${app}, version: ${versionNumber(n)}, description: Fault suite contract by ${author}, x-owner: faults }`,
    "channels:",
  ];
  addresses.forEach((address, i) => {
    lines.push(
      `  ch${i}:`,
      `    address: '${address}'`,
      ...(address.includes("{site}") ? ["    parameters: { site: { description: The site } }"] : []),
      `    description: Channel ${i}`,
      "    messages:",
      `      msg${i}:`,
      `        name: msg${i}`,
      `        summary: Message ${i}`,
      "        contentType: application/json",
      "        payload:",
      "          type: object",
      "          properties:",
      ...Array.from({ length: 8 }, (_, f) => `            field${f}_${i}: { type: ${f % 2 ? "number" : "string"}, description: Field ${f} }`),
      "          required: [field0_" + i + "]",
    );
  });
  lines.push("operations:");
  addresses.forEach((_, i) => {
    lines.push(`  send${i}:`, "    action: send", `    summary: Sends ${i}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return lines.join("\n") + "\n";
}
