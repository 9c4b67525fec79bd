import { getApplication } from "@/lib/catalog/applications.ts";
import { authenticated, json } from "../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** One application with its team, versions and compatibility mode. */
export const GET = authenticated<{ app: string }>(async (_request, principal, { app }) => json(await getApplication(principal, app)));
