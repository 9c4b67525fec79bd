import { channelTemplatesForAgents } from "@/lib/ingest/reports.ts";
import { authenticated, json } from "../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** The contract channel templates agents label their observations with. */
export const GET = authenticated(async (_request, principal) => json({ channels: await channelTemplatesForAgents(principal) }));
