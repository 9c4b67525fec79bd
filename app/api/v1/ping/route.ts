import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-static";

const PONG = { ok: true, service: "meshport" };

/** Constant answer, no database: a cheap probe, and the baseline of the API benchmark. */
export function GET(): Response {
  return Response.json(PONG);
}

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
