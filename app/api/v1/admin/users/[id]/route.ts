import { getUser, updateUser } from "@/lib/accounts/users.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";

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
