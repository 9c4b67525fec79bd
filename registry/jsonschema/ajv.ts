import Ajv, { type Options } from "ajv";
import Ajv2019 from "ajv/dist/2019.js";
import Ajv2020 from "ajv/dist/2020.js";

/** The JSON Schema dialects ajv validates with: draft-07 (and older), 2019-09, 2020-12. */
export type Dialect = "draft7" | "2019" | "2020";

/** The dialect a schema's `$schema` names; draft-07 when it names none or an older draft. */
export function dialectOf(schema: unknown): Dialect {
  const id = schema !== null && typeof schema === "object" && !Array.isArray(schema) ? (schema as { $schema?: unknown }).$schema : undefined;
  if (typeof id !== "string") return "draft7";
  if (id.includes("2020-12")) return "2020";
  if (id.includes("2019-09")) return "2019";
  return "draft7";
}

/**
 * Options for validating with schemas that are not ajv's to judge: a `$schema` of another draft must not stop a
 * compile, two schemas may share an `$id` (none is registered by id), and nothing is logged.
 */
export const LENIENT_AJV_OPTIONS: Options = {
  strict: false,
  allErrors: false,
  allowUnionTypes: true,
  validateSchema: false,
  addUsedSchema: false,
  logger: false,
};

/** A new ajv instance for a dialect. */
export function ajvFor(dialect: Dialect, options: Options = LENIENT_AJV_OPTIONS): Ajv {
  return dialect === "2020" ? new Ajv2020(options) : dialect === "2019" ? new Ajv2019(options) : new Ajv(options);
}
