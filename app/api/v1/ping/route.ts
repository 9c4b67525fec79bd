import { otherMethods } from "../_lib/methods.ts";

// Run on every request: a liveness probe must show the server answers, not a cached copy, and it is the API
// benchmark's baseline (a dynamic route handler returning constant JSON).
export const dynamic = "force-dynamic";

const PONG = { ok: true, service: "meshport" };

/** Constant answer, no database: a cheap probe, and the baseline of the API benchmark. */
export function GET(): Response {
  return Response.json(PONG, { headers: { "cache-control": "no-store" } });
}

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
