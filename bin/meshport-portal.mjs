#!/usr/bin/env node
// The portal's HTTP server: Next.js behind a thin front that records each request's
// socket peer address, which Next.js itself does not pass on to route handlers. The
// client address the portal trusts is derived from it (lib/http/client-address.ts).
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { tsImport } from "tsx/esm/api";

/** Header carrying the socket peer address; whatever a client sends under this name is replaced. */
const PEER_HEADER = "x-meshport-peer";
/** Header the portal fills with the client address it computed; a client never gets to send it. */
const CLIENT_ADDRESS_HEADER = "x-meshport-client-address";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT || 3000);
const hostname = process.env.MESHPORT_HOST || "0.0.0.0";

process.env.NODE_ENV ||= "production";
const app = next({ dev: false, dir, hostname, port });
await app.prepare();
const handle = app.getRequestHandler();
// Loaded from source through tsx (a runtime dependency), scoped to this import so Next.js's own modules are untouched.
const { edgeRefusal, servedTarget } = await tsImport("../lib/http/edge.ts", import.meta.url);

const server = createServer((request, response) => {
  request.headers[PEER_HEADER] = request.socket.remoteAddress ?? "";
  delete request.headers[CLIENT_ADDRESS_HEADER];
  // Methods and URLs Next.js cannot parse are answered here, in the API's error shape, instead of with its bare 500.
  const refused = edgeRefusal(request.method, request.url);
  if (refused) {
    response.writeHead(refused.status, { ...refused.headers, "content-length": Buffer.byteLength(refused.body) });
    response.end(request.method === "HEAD" ? undefined : refused.body);
    return;
  }
  request.url = servedTarget(request.url);
  void handle(request, response);
});
server.listen(port, hostname, () => {
  console.log(`meshport: portal listening on http://${hostname}:${port}`);
});

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // Finish requests in flight, then leave; a stuck connection does not hold the exit up for long.
    server.close(() => void app.close().finally(() => process.exit(0)));
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
