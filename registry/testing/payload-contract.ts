import { normalise } from "../normalise/index.ts";
import type { Contract } from "../types.ts";

/**
 * A one-message AsyncAPI 3.0 contract whose payload is `schema`: lets schema cases run through `compare()`,
 * the public entry point, rather than through the schema differ beneath it.
 */
export function payloadContract(schema: unknown, options: { action?: "send" | "receive"; version?: string } = {}): Promise<Contract> {
  // normalise() reads a dereferenced document: references are the shared objects themselves.
  const message = { name: "OrderPlaced", payload: structuredClone(schema) };
  const channel = { address: "orders/{orderId}", parameters: { orderId: {} }, messages: { OrderPlaced: message } };
  return normalise({
    asyncapi: "3.0.0",
    info: { title: "Orders", version: options.version ?? "1.0.0" },
    channels: { orders: channel },
    operations: { publishOrder: { action: options.action ?? "send", channel, messages: [message] } },
  });
}
