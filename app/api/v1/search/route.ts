import { searchCatalog } from "@/lib/catalog/search.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Catalog search: `?q=words`, `?topic=plant/+/temperature`, `?field=orderId`, with `kind`, `limit`, `offset`. */
export const GET = authenticated(async (request, principal) =>
  json(await searchCatalog(principal, Object.fromEntries(new URL(request.url).searchParams))),
);

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
