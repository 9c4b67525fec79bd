import "server-only";
import type { Principal } from "@/lib/auth/principal.ts";
import type { CompatibilityMode } from "@/registry/index.ts";
import type { SchemaType } from "@/registry/schematypes/index.ts";
import type { RegistryMode, SchemaReference } from "@/db/schema.ts";

/*
 * The registry as Confluent's REST API sees it: one function per operation, Confluent's semantics, Confluent's
 * errors (RegistryError, errors.ts). The route layer (app/api/schema-registry) parses HTTP and maps errors; the
 * portal pages use views.ts. Reads need `catalog:read`; registering, deleting and configuring a subject need
 * `contracts:write` for the subject's team, or an admin; the registry-wide config and mode are an admin's.
 */

/** A registration or look-up request body, validated by the route layer for shape only. */
export interface SchemaRequest {
  schema: string;
  /** Confluent's default when absent: AVRO. */
  schemaType?: SchemaType;
  references?: SchemaReference[];
  /** IMPORT mode only: the id and version to register under. */
  id?: number;
  version?: number;
}

/** A version as `GET /subjects/{s}/versions/{v}` answers it (schemaType omitted for AVRO, references when any). */
export interface SubjectVersionView {
  subject: string;
  id: number;
  version: number;
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

/** A schema as `GET /schemas/ids/{id}` answers it. */
export interface SchemaView {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export type VersionSelector = number | "latest";

const pending = (): never => {
  throw new Error("not implemented");
};

export async function listSubjects(principal: Principal, options: { deleted?: boolean; prefix?: string }): Promise<string[]> {
  void principal, options;
  return pending();
}

export async function listVersions(principal: Principal, subject: string, options: { deleted?: boolean }): Promise<number[]> {
  void principal, subject, options;
  return pending();
}

export async function getSubjectVersion(principal: Principal, subject: string, version: VersionSelector, options: { deleted?: boolean }): Promise<SubjectVersionView> {
  void principal, subject, version, options;
  return pending();
}

/** `POST /subjects/{s}`: the version of this subject holding this schema. */
export async function lookUpSchema(principal: Principal, subject: string, request: SchemaRequest, options: { deleted?: boolean; normalize?: boolean }): Promise<SubjectVersionView> {
  void principal, subject, request, options;
  return pending();
}

/** `POST /subjects/{s}/versions`: registers (or finds) the schema; returns its global id. */
export async function registerSchema(principal: Principal, subject: string, request: SchemaRequest, options: { normalize?: boolean }): Promise<{ id: number }> {
  void principal, subject, request, options;
  return pending();
}

/** `GET /subjects/{s}/versions/{v}/referencedby`: ids of the schemas that reference this version. */
export async function referencedBy(principal: Principal, subject: string, version: VersionSelector): Promise<number[]> {
  void principal, subject, version;
  return pending();
}

/** `DELETE /subjects/{s}`: the versions deleted. */
export async function deleteSubject(principal: Principal, subject: string, options: { permanent?: boolean }): Promise<number[]> {
  void principal, subject, options;
  return pending();
}

/** `DELETE /subjects/{s}/versions/{v}`: the version deleted. */
export async function deleteSubjectVersion(principal: Principal, subject: string, version: VersionSelector, options: { permanent?: boolean }): Promise<number> {
  void principal, subject, version, options;
  return pending();
}

/** `GET /schemas/ids/{id}`; with `subject`, only when that subject holds the id. Served from an in-process cache. */
export async function getSchemaById(principal: Principal, id: number, options: { subject?: string; format?: string }): Promise<SchemaView> {
  void principal, id, options;
  return pending();
}

/** `GET /schemas/ids/{id}/versions`. */
export async function versionsOfSchema(principal: Principal, id: number, options: { subject?: string; deleted?: boolean }): Promise<Array<{ subject: string; version: number }>> {
  void principal, id, options;
  return pending();
}

/** `GET /schemas/ids/{id}/subjects`. */
export async function subjectsOfSchema(principal: Principal, id: number, options: { subject?: string; deleted?: boolean }): Promise<string[]> {
  void principal, id, options;
  return pending();
}

/** `POST /compatibility/subjects/{s}/versions[/{v}]`: `version` null checks against what the level requires. */
export async function testCompatibility(
  principal: Principal,
  subject: string,
  version: VersionSelector | null,
  request: SchemaRequest,
  options: { verbose?: boolean; normalize?: boolean },
): Promise<{ is_compatible: boolean; messages?: string[] }> {
  void principal, subject, version, request, options;
  return pending();
}

/** `GET /config[/{s}]`: a subject without its own level answers 40408 unless `defaultToGlobal`. */
export async function getCompatibility(principal: Principal, subject: string | null, options: { defaultToGlobal?: boolean }): Promise<{ compatibilityLevel: CompatibilityMode }> {
  void principal, subject, options;
  return pending();
}

/** `PUT /config[/{s}]`. */
export async function setCompatibility(principal: Principal, subject: string | null, level: string): Promise<{ compatibility: CompatibilityMode }> {
  void principal, subject, level;
  return pending();
}

/** `DELETE /config[/{s}]`: the level that was set (the global one goes back to BACKWARD). */
export async function deleteCompatibility(principal: Principal, subject: string | null): Promise<{ compatibilityLevel: CompatibilityMode }> {
  void principal, subject;
  return pending();
}

/** `GET /mode[/{s}]`. */
export async function getMode(principal: Principal, subject: string | null, options: { defaultToGlobal?: boolean }): Promise<{ mode: RegistryMode }> {
  void principal, subject, options;
  return pending();
}

/** `PUT /mode[/{s}]`: IMPORT needs an empty registry or subject unless `force`. */
export async function setMode(principal: Principal, subject: string | null, mode: string, options: { force?: boolean }): Promise<{ mode: RegistryMode }> {
  void principal, subject, mode, options;
  return pending();
}

/** `DELETE /mode/{s}`: the mode that was set. */
export async function deleteMode(principal: Principal, subject: string): Promise<{ mode: RegistryMode }> {
  void principal, subject;
  return pending();
}
