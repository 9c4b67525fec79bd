import { serveRegistry } from "../_lib/serve.ts";

export const dynamic = "force-dynamic";

/** Confluent Schema Registry's REST API; the path is split by the registry's own router (subjects may hold `/`). */
function serve(request: Request): Promise<Response> {
  return serveRegistry(request);
}

export { serve as GET, serve as POST, serve as PUT, serve as DELETE, serve as PATCH };
