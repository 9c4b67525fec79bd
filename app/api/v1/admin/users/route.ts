import { createUser, listUsers } from "@/lib/accounts/users.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Lists accounts (admin). */
export const GET = authenticated(async (_request, principal) => json({ users: await listUsers(principal) }));

/** Creates an account: `{ name, email, password, role }` (admin). */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ user: await createUser(principal, body) }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
