import { searchCatalog } from "@/lib/catalog/search.ts";
import { authenticated, json } from "../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Catalog search: `?q=words`, `?topic=plant/+/temperature`, `?field=orderId`, with `kind`, `limit`, `offset`. */
export const GET = authenticated(async (request, principal) =>
  json(await searchCatalog(principal, Object.fromEntries(new URL(request.url).searchParams))),
);
