import { getUser, updateUser } from "@/lib/accounts/users.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One account (admin). */
export const GET = authenticated<{ id: string }>(async (_request, principal, { id }) =>
  json({ user: await getUser(principal, id) }),
);

/** Changes an account's role or disables it: `{ role?, disabled? }` (admin). */
export const PATCH = authenticated<{ id: string }>(async (request, principal, { id }) => {
  const body = await readJson(request);
  return json({ user: await updateUser(principal, id, body) });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, DELETE } = otherMethods("GET", "PATCH");
