export const dynamic = "force-static";

const PONG = { ok: true, service: "meshport" };

/** Constant answer, no database: a cheap probe, and the baseline of the API benchmark. */
export function GET(): Response {
  return Response.json(PONG);
}
