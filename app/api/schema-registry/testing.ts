/**
 * An HTTP server for tests and benchmarks that hands each request to route handler modules, as Next.js would:
 * the raw request target is kept (encoded `/` in subjects stays encoded), bodies are streamed, and the socket
 * peer is written where the portal's server writes it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PEER_HEADER } from "@/lib/http/client-address.ts";

/** A route handler as Next.js calls it. */
export type RouteHandler = (request: Request, context: { params: Promise<Record<string, string | string[]>> }) => Response | Promise<Response>;

/** The handlers of one route module, by method. */
export type RouteModule = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD", RouteHandler>>;

/** A running server: its base URL (`http://127.0.0.1:PORT`) and how to stop it. */
export interface RouteServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The request body as a web stream with backpressure. Cancelling it (a handler refusing an oversized body) drains
 * the rest instead of destroying the socket, so the client still reads the refusal.
 */
function bodyStream(incoming: IncomingMessage): { stream: ReadableStream<Uint8Array>; drain(): void } {
  let cancelled = false;
  const drain = () => {
    cancelled = true;
    incoming.resume();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      incoming.on("data", (chunk: Buffer) => {
        if (cancelled) return;
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
      });
      incoming.on("end", () => {
        if (!cancelled) controller.close();
      });
      incoming.on("error", (error) => {
        if (!cancelled) controller.error(error);
      });
    },
    pull() {
      incoming.resume();
    },
    cancel: drain,
  });
  return { stream, drain };
}

/** The request for a handler, and what drops the body the handler left unread once it has answered. */
function toRequest(incoming: IncomingMessage, base: string): { request: Request; drain(): void } {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (name === PEER_HEADER || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  headers.set(PEER_HEADER, incoming.socket.remoteAddress ?? "127.0.0.1");
  const method = incoming.method ?? "GET";
  const body = method !== "GET" && method !== "HEAD" ? bodyStream(incoming) : null;
  const request = new Request(`${base}${incoming.url ?? "/"}`, {
    method,
    headers,
    ...(body ? { body: body.stream, duplex: "half" } : {}),
  } as RequestInit);
  return { request, drain: body ? body.drain : () => incoming.resume() };
}

async function writeResponse(response: Response, outgoing: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  outgoing.writeHead(response.status, headers);
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) outgoing.write(chunk);
  }
  outgoing.end();
}

/**
 * Starts a loopback server on a free port; `route(pathname)` picks the module for a request (null: 404). Errors a
 * handler throws (route handlers should not) are answered 500 and reported on stderr.
 */
export async function startRouteServer(route: (pathname: string) => RouteModule | null): Promise<RouteServer> {
  let base = "";
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      try {
        const { request, drain } = toRequest(incoming, base);
        const routeModule = route(new URL(request.url).pathname);
        const handler = routeModule?.[request.method as keyof RouteModule];
        if (!handler) {
          incoming.resume();
          outgoing.writeHead(routeModule ? 405 : 404).end();
          return;
        }
        await writeResponse(await handler(request, { params: Promise.resolve({}) }), outgoing);
        drain();
      } catch (error) {
        console.error("route server: handler failed", error);
        if (!outgoing.headersSent) outgoing.writeHead(500);
        outgoing.end();
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The registry API behind a loopback server; `url` + "/api/schema-registry" is what a Confluent client is given. */
export async function startRegistryServer(): Promise<RouteServer & { registryUrl: string }> {
  const registry = (await import("./[[...path]]/route.ts")) as RouteModule;
  const server = await startRouteServer((pathname) => (pathname.startsWith("/api/schema-registry") ? registry : null));
  return { ...server, registryUrl: `${server.url}/api/schema-registry` };
}
