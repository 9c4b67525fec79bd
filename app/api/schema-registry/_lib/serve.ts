import "server-only";
import { readBodyBytes } from "@/app/api/v1/_lib/http.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { decodeUtf8 } from "@/lib/http/input.ts";
import * as registry from "@/lib/schema-registry/api.ts";
import { registryErrors } from "@/lib/schema-registry/errors.ts";
import { registryPrincipal } from "./auth.ts";
import { compatibilityFromBody, MAX_NAME_LENGTH, modeFromBody, parseJsonBody, REGISTRY_BODY_LIMIT, schemaRequestFromBody } from "./body.ts";
import {
  acceptsRequestType,
  confluentErrorResponse,
  confluentJson,
  confluentRawSchema,
  httpErrors,
  negotiateResponseType,
  REGISTRY_V1_JSON,
  type ResponseType,
} from "./confluent.ts";
import { matchRegistryRoute, parseSchemaId, parseVersion, splitRegistryPath, type RegistryMethod, type RegistryRoute } from "./router.ts";

/** The schema types this registry serves, in the order Confluent lists them. */
const SCHEMA_TYPE_LIST = ["JSON", "PROTOBUF", "AVRO"] as const;

/** Query flags are true only when spelled `true` (any case), as Confluent's REST layer reads booleans. */
function flag(query: URLSearchParams, name: string): boolean {
  return query.get(name)?.toLowerCase() === "true";
}

/** A paging parameter: a non-negative int4, else left out (Confluent's default: everything). */
function count<K extends string>(query: URLSearchParams, name: string, key: K): Partial<Record<K, number>> {
  const raw = query.get(name);
  if (raw === null || !/^\d{1,10}$/.test(raw) || Number(raw) > 2 ** 31 - 1) return {};
  return { [key]: Number(raw) } as Partial<Record<K, number>>;
}

/** A subject from the path or the query, refused (42208) when no subject could be named so. */
function subjectName(value: string): string {
  if (value.length > MAX_NAME_LENGTH) throw registryErrors.invalidSubject(`Subject name is longer than ${MAX_NAME_LENGTH} characters.`);
  if (value.includes("\u0000") || !value.isWellFormed()) throw registryErrors.invalidSubject("Subject name contains a NUL character or an unpaired surrogate.");
  return value;
}

/** The request body as JSON, after its media type is checked (415) and its size bounded (413) while reading. */
async function readBody(request: Request): Promise<unknown> {
  if (!acceptsRequestType(request.headers.get("content-type"))) throw httpErrors.unsupportedMediaType();
  const bytes = await readBodyBytes(request, REGISTRY_BODY_LIMIT);
  let text: string;
  try {
    text = decodeUtf8(bytes, "The request body");
  } catch {
    throw httpErrors.malformedJson("the body is not UTF-8 text");
  }
  return parseJsonBody(text);
}

async function dispatch(
  request: Request,
  query: URLSearchParams,
  principal: Principal,
  route: RegistryRoute,
  method: RegistryMethod,
  type: ResponseType,
): Promise<Response> {
  const ok = (data: unknown) => confluentJson(data, type);
  switch (route.op) {
    case "root":
      return ok({});
    case "schemaTypes":
      return ok(SCHEMA_TYPE_LIST);
    case "subjects": {
      const prefix = query.get("subjectPrefix") ?? "";
      if (prefix.length > MAX_NAME_LENGTH) throw registryErrors.invalidSubject(`subjectPrefix is longer than ${MAX_NAME_LENGTH} characters.`);
      const options = {
        deleted: flag(query, "deleted"),
        deletedOnly: flag(query, "deletedOnly"),
        ...(prefix ? { prefix: subjectName(prefix) } : {}),
        ...count(query, "offset", "offset"),
        ...count(query, "limit", "limit"),
      };
      return ok(await registry.listSubjects(principal, options));
    }
    case "subjectVersions": {
      const subject = subjectName(route.subject);
      if (method === "GET") return ok(await registry.listVersions(principal, subject, { deleted: flag(query, "deleted") }));
      const body = schemaRequestFromBody(await readBody(request));
      return ok(await registry.registerSchema(principal, subject, body, { normalize: flag(query, "normalize") }));
    }
    case "subject": {
      const subject = subjectName(route.subject);
      if (method === "DELETE") return ok(await registry.deleteSubject(principal, subject, { permanent: flag(query, "permanent") }));
      const body = schemaRequestFromBody(await readBody(request));
      return ok(await registry.lookUpSchema(principal, subject, body, { deleted: flag(query, "deleted"), normalize: flag(query, "normalize") }));
    }
    case "subjectVersion": {
      const subject = subjectName(route.subject);
      const version = parseVersion(route.version);
      if (method === "DELETE") return ok(await registry.deleteSubjectVersion(principal, subject, version, { permanent: flag(query, "permanent") }));
      return ok(await registry.getSubjectVersion(principal, subject, version, { deleted: flag(query, "deleted") }));
    }
    case "subjectVersionSchema": {
      const found = await registry.getSubjectVersion(principal, subjectName(route.subject), parseVersion(route.version), { deleted: flag(query, "deleted") });
      return confluentRawSchema(found.schema, type);
    }
    case "referencedBy":
      return ok(await registry.referencedBy(principal, subjectName(route.subject), parseVersion(route.version)));
    case "schemaById":
    case "schemaByIdSchema": {
      const id = parseSchemaId(route.id);
      // Only a few formats exist (`serialized`, `resolved`...); anything odd is no format at all.
      const format = query.get("format");
      const usable = format && format.length <= 100 && !format.includes("\u0000") && format.isWellFormed();
      const options = { ...optionalSubjectOption(query), ...(usable ? { format } : {}) };
      const found = await registry.getSchemaById(principal, id, options);
      return route.op === "schemaById" ? ok(found) : confluentRawSchema(found.schema, type);
    }
    case "schemaByIdVersions":
      return ok(await registry.versionsOfSchema(principal, parseSchemaId(route.id), { ...optionalSubjectOption(query), deleted: flag(query, "deleted") }));
    case "schemaByIdSubjects":
      return ok(await registry.subjectsOfSchema(principal, parseSchemaId(route.id), { ...optionalSubjectOption(query), deleted: flag(query, "deleted") }));
    case "compatibility":
    case "compatibilityVersion": {
      const subject = subjectName(route.subject);
      const version = route.op === "compatibilityVersion" ? parseVersion(route.version) : null;
      const body = schemaRequestFromBody(await readBody(request));
      return ok(await registry.testCompatibility(principal, subject, version, body, { verbose: flag(query, "verbose"), normalize: flag(query, "normalize") }));
    }
    case "config": {
      const subject = route.subject === null ? null : subjectName(route.subject);
      if (method === "GET") return ok(await registry.getCompatibility(principal, subject, { defaultToGlobal: flag(query, "defaultToGlobal") }));
      if (method === "DELETE") return ok(await registry.deleteCompatibility(principal, subject));
      return ok(await registry.setCompatibility(principal, subject, compatibilityFromBody(await readBody(request))));
    }
    case "mode": {
      const subject = route.subject === null ? null : subjectName(route.subject);
      if (method === "GET") return ok(await registry.getMode(principal, subject, { defaultToGlobal: flag(query, "defaultToGlobal") }));
      if (method === "DELETE" && subject !== null) return ok(await registry.deleteMode(principal, subject));
      return ok(await registry.setMode(principal, subject, modeFromBody(await readBody(request)), { force: flag(query, "force") }));
    }
  }
}

/** The `subject` query parameter of the `/schemas/ids` routes, when given. */
function optionalSubjectOption(query: URLSearchParams): { subject?: string } {
  const subject = query.get("subject");
  return subject === null || subject === "" ? {} : { subject: subjectName(subject) };
}

const METHODS = new Set<string>(["GET", "POST", "PUT", "DELETE"]);

/**
 * Serves one request of the registry API: the caller first (401 with a Basic challenge), then the path (404),
 * the method (405), the Accept header (406), the body's type and size (415, 413), and the operation; every
 * failure is answered in Confluent's shape by confluentErrorResponse.
 */
export async function serveRegistry(request: Request): Promise<Response> {
  const type = negotiateResponseType(request.headers.get("accept"));
  try {
    const principal = await registryPrincipal(request);
    const url = new URL(request.url);
    const segments = splitRegistryPath(url.pathname);
    const matched = segments === null ? null : matchRegistryRoute(segments);
    if (!matched) throw httpErrors.notFound();
    const method = request.method.toUpperCase();
    if (!METHODS.has(method) || !matched.methods.includes(method as RegistryMethod)) throw httpErrors.methodNotAllowed(matched.methods);
    if (!type) throw httpErrors.notAcceptable();
    return await dispatch(request, url.searchParams, principal, matched.route, method as RegistryMethod, type);
  } catch (error) {
    return confluentErrorResponse(error, type ?? REGISTRY_V1_JSON);
  }
}
