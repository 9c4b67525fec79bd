/**
 * An embedded MQTT 3.1.1 broker (aedes) for the zero-setup demo, with its
 * hooks turned into the same broker events Mosquitto's logs give, so an agent
 * attached to it learns producers and consumers by client id.
 */
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { Aedes } from "aedes";
import type { BrokerEventSource } from "./mqtt-source.ts";
import type { BrokerEvent } from "./mosquitto-log.ts";

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** mqtt://host:port */
  url: string;
  port: number;
  /** hook events to pass to startAgent({ brokerEvents }) */
  events: BrokerEventSource;
  /** the aedes instance, for tests and the demo */
  aedes: Aedes;
  /** Stops accepting clients and closes the broker. */
  close(): Promise<void>;
}

/** Options of {@link startEmbeddedBroker}. */
export interface EmbeddedBrokerOptions {
  /** TCP port (default 1883; 0: any free port) */
  port?: number;
  /** bind address (default 127.0.0.1) */
  host?: string;
}

/** Starts an aedes broker on a TCP port and exposes its hooks as broker events. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  // Another broker's bridge sets the bridge bit of CONNECT's protocol level (mqtt-packet's bridgeMode).
  const bridges = new WeakMap<object, string | undefined>();
  const aedes = await Aedes.createBroker({
    preConnect(client, packet, callback) {
      if ((packet as { bridgeMode?: boolean }).bridgeMode) {
        const conn = client.conn as { remoteAddress?: string; remotePort?: number };
        bridges.set(client, conn.remoteAddress ? `${conn.remoteAddress}:${conn.remotePort ?? 0}` : undefined);
      }
      callback(null, true);
    },
  });
  const listeners = new Set<(event: BrokerEvent) => void>();
  const emit = (event: BrokerEvent) => {
    for (const l of listeners) l(event);
  };

  aedes.on("client", (client) => {
    const event: BrokerEvent = { type: "connect", clientId: client.id, clean: client.clean, protocolLevel: 4, username: null };
    if (bridges.has(client)) {
      event.bridge = true;
      const address = bridges.get(client);
      if (address) event.address = address;
    }
    emit(event);
  });
  aedes.on("clientDisconnect", (client) => emit({ type: "disconnect", clientId: client.id }));
  aedes.on("subscribe", (subscriptions, client) => {
    for (const s of subscriptions) emit({ type: "subscribe", clientId: client.id, filter: s.topic, qos: s.qos });
  });
  aedes.on("unsubscribe", (filters, client) => {
    for (const filter of filters) emit({ type: "unsubscribe", clientId: client.id, filter });
  });
  aedes.on("publish", (packet, client) => {
    // The broker's own $SYS heartbeats have no client.
    if (!client || packet.topic.startsWith("$")) return;
    emit({ type: "publish", clientId: client.id, topic: packet.topic, qos: packet.qos, retain: packet.retain, bytes: packet.payload.length });
  });

  const server: Server = createServer(aedes.handle);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 1883, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    aedes,
    events: {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      listeners.clear();
    },
  };
}
