/**
 * Confluent Schema Registry's errors, as its clients read them: an HTTP status and an `error_code`. The registry
 * service throws these; app/api/schema-registry turns them (and the portal's own errors) into Confluent's body
 * `{"error_code": N, "message": "..."}` in one place.
 */
export class RegistryError extends Error {
  readonly errorCode: number;
  readonly status: number;

  constructor(errorCode: number, message: string) {
    super(message);
    this.name = "RegistryError";
    this.errorCode = errorCode;
    // Confluent's codes start with the HTTP status (40401 → 404); 409 and 422 families included.
    this.status = errorCode < 1000 ? errorCode : Math.floor(errorCode / 100);
  }
}

/** True when the value is a RegistryError (also across module copies). */
export function isRegistryError(value: unknown): value is RegistryError {
  return value instanceof RegistryError || (value instanceof Error && value.name === "RegistryError" && "errorCode" in value);
}

/** Confluent's messages, worded as its registry words them (clients and scripts match on some). */
export const registryErrors = {
  subjectNotFound: (subject: string) => new RegistryError(40401, `Subject '${subject}' not found.`),
  versionNotFound: (version: number | string) => new RegistryError(40402, `Version ${version} not found.`),
  schemaNotFound: (detail = "Schema not found") => new RegistryError(40403, detail),
  subjectSoftDeleted: (subject: string) =>
    new RegistryError(40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`),
  subjectNotSoftDeleted: (subject: string) =>
    new RegistryError(40405, `Subject '${subject}' was not deleted first before being permanently deleted`),
  versionSoftDeleted: (subject: string, version: number) =>
    new RegistryError(40406, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`),
  versionNotSoftDeleted: (subject: string, version: number) =>
    new RegistryError(40407, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`),
  compatibilityNotConfigured: (subject: string) =>
    new RegistryError(40408, `Subject '${subject}' does not have subject-level compatibility configured`),
  modeNotConfigured: (subject: string) => new RegistryError(40409, `Subject '${subject}' does not have subject-level mode configured`),
  incompatible: (message: string) => new RegistryError(409, message),
  invalidSchema: (message: string) => new RegistryError(42201, message),
  invalidVersion: (version: string) =>
    new RegistryError(42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`),
  invalidCompatibilityLevel: (level: string) =>
    new RegistryError(
      42203,
      `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got '${level}')`,
    ),
  invalidMode: (mode: string) => new RegistryError(42204, `Invalid mode. Valid values are READWRITE, READONLY, IMPORT (got '${mode}')`),
  operationNotPermitted: (message: string) => new RegistryError(42205, message),
  referenceExists: (message: string) => new RegistryError(42206, message),
  idDoesNotMatch: (message: string) => new RegistryError(42207, message),
  invalidSubject: (message: string) => new RegistryError(42208, message),
  storeError: (message = "Error while storing the schema") => new RegistryError(50001, message),
} as const;
