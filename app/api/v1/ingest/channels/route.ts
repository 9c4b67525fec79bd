import { channelTemplatesForAgents } from "@/lib/ingest/reports.ts";
import { authenticated, json } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** The contract channel templates agents label their observations with. */
export const GET = authenticated(async (_request, principal) => json({ channels: await channelTemplatesForAgents(principal) }));

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
