import net from "node:net";

/**
 * A TCP proxy in front of a PostgreSQL server that can stop passing notifications while passing everything else:
 * the connection still answers, but a LISTEN on it hears nothing, as behind a proxy that pools sessions.
 * (Tests only; plain connections, no TLS.)
 */
export interface DroppingProxy {
  /** The server URL with its host and port swapped for the proxy's. */
  url: string;
  /** While true, NotificationResponse messages from the server are dropped. */
  dropping: boolean;
  close(): Promise<void>;
}

/** Starts a proxy to the server of `serverUrl` on a free loopback port. */
export async function startDroppingProxy(serverUrl: string): Promise<DroppingProxy> {
  const target = new URL(serverUrl);
  const sockets = new Set<net.Socket>();
  const proxy: DroppingProxy = { url: "", dropping: false, close: async () => undefined };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", closeBoth).on("close", closeBoth);
    upstream.on("error", closeBoth).on("close", closeBoth);
    client.pipe(upstream);
    // Every message from the server is a type byte and a length that counts itself: cut them apart, drop 'A'.
    let pending = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      while (pending.length >= 5) {
        const size = 1 + pending.readInt32BE(1);
        if (pending.length < size) break;
        const message = pending.subarray(0, size);
        pending = pending.subarray(size);
        if (!(proxy.dropping && message[0] === 0x41)) out.push(message);
      }
      if (out.length > 0) client.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  const url = new URL(serverUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  proxy.url = url.toString();
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
