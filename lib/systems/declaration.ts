import { z } from "zod";
import { APPLICATION_KINDS, SYSTEM_ROLES, SYSTEM_TYPES, type ApplicationKind, type SystemRole, type SystemType } from "@/db/schema.ts";
import { MeshportError, zodErrorDetails } from "@/lib/errors.ts";
import type { Contract } from "@/registry/index.ts";

/** Most systems one application connects. */
export const MAX_APPLICATION_SYSTEMS = 20;
/** Longest system name, and description. */
export const MAX_SYSTEM_NAME = 100;
export const MAX_SYSTEM_DESCRIPTION = 2000;

/** The contract's extensions, as the publish error names them. */
export const KIND_FIELD = "info.x-meshport-kind";
export const SYSTEMS_FIELD = "info.x-meshport-systems";

/** A system an application says it connects: found by name, or created with this type and description. */
export interface DeclaredSystem {
  name: string;
  type: SystemType;
  role: SystemRole;
  description: string;
}

/** What a contract (or the portal) says about an application in the mesh; an absent part leaves what is there. */
export interface MeshDeclaration {
  kind?: ApplicationKind;
  systems?: DeclaredSystem[];
}

/** True when the text has a control or format character (a name is printable). */
function hasUnprintable(text: string): boolean {
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || code === 0xfeff || (code >= 0x200b && code <= 0x200f)) return true;
  }
  return false;
}

/** A system's name: 1–100 printable characters, inner runs of spaces folded into one. */
export const systemNameSchema = z
  .string({ message: "A system's name is text." })
  .transform((v) => v.trim().replace(/\s+/g, " "))
  .pipe(
    z
      .string()
      .min(1, { message: "A system needs a name." })
      .max(MAX_SYSTEM_NAME, { message: `A system's name is at most ${MAX_SYSTEM_NAME} characters.` })
      .refine((v) => !hasUnprintable(v), { message: "A system's name holds printable characters only." }),
  );

export const systemDescriptionSchema = z
  .string({ message: "A system's description is text." })
  .trim()
  .max(MAX_SYSTEM_DESCRIPTION, { message: `A system's description is at most ${MAX_SYSTEM_DESCRIPTION} characters.` });

const kindSchema = z.enum(APPLICATION_KINDS, { message: `One of ${APPLICATION_KINDS.join(", ")}.` });

// A plain string is a name with the defaults; field errors then land on `.name` as for an object.
const entrySchema = z.preprocess(
  (v) => (typeof v === "string" ? { name: v } : v),
  z
    .object({
      name: systemNameSchema,
      type: z.enum(SYSTEM_TYPES, { message: `One of ${SYSTEM_TYPES.join(", ")}.` }).optional(),
      role: z.enum(SYSTEM_ROLES, { message: `One of ${SYSTEM_ROLES.join(", ")}.` }).optional(),
      description: systemDescriptionSchema.optional(),
    })
    .strict(),
);

/** The systems list as written: names, or `{ name, type?, role?, description? }`. */
export const systemsListSchema = z
  .array(entrySchema, { message: "A list of systems." })
  .max(MAX_APPLICATION_SYSTEMS, { message: `At most ${MAX_APPLICATION_SYSTEMS} systems.` });

/** The role a system takes when none is written: a source integration reads from its systems, a target one delivers into them. */
export function defaultRole(kind: ApplicationKind | null | undefined): SystemRole | null {
  if (kind === "source-integration") return "source";
  if (kind === "target-integration") return "target";
  return null;
}

/**
 * Reads a kind and a systems list (untrusted) into a declaration: roles default from the kind (`kind` given, or
 * `currentKind` when only systems are), duplicates go. Throws `invalid_input` naming each bad field under
 * `kindField` and `systemsField` (the contract's `info.x-meshport-…`, or the API's `kind` and `systems`).
 */
export function readDeclaration(
  raw: { kind?: unknown; systems?: unknown },
  fields: { kind: string; systems: string; subject?: "contract" },
  currentKind?: ApplicationKind | null,
): MeshDeclaration {
  const errors: Record<string, string[]> = {};
  const declaration: MeshDeclaration = {};
  if (raw.kind !== undefined) {
    const kind = kindSchema.safeParse(raw.kind);
    if (kind.success) declaration.kind = kind.data;
    else errors[fields.kind] = [kind.error.issues[0]!.message];
  }
  if (raw.systems !== undefined) {
    const list = systemsListSchema.safeParse(raw.systems);
    if (!list.success) {
      for (const [path, messages] of Object.entries(zodErrorDetails(list.error).fieldErrors)) errors[`${fields.systems}.${path}`] = messages;
      for (const message of zodErrorDetails(list.error).formErrors) errors[fields.systems] = [message];
    } else {
      const kind = declaration.kind ?? (raw.kind === undefined ? currentKind : undefined);
      const seen = new Set<string>();
      const systems: DeclaredSystem[] = [];
      list.data.forEach((entry, i) => {
        const given = entry.role;
        const role = given ?? defaultRole(kind);
        if (!role) {
          errors[`${fields.systems}.${i}.role`] = [`Say whether ${entry.name} is a source or a target (a ${kind ?? "service"} has no default role).`];
          return;
        }
        const key = `${entry.name.toLowerCase()}\u0000${role}`;
        if (seen.has(key)) return;
        seen.add(key);
        systems.push({
          name: entry.name,
          type: entry.type ?? "other",
          role,
          description: entry.description ?? "",
        });
      });
      declaration.systems = systems;
    }
  }
  if (Object.keys(errors).length > 0) {
    const [field, messages] = Object.entries(errors)[0]!;
    const message = fields.subject === "contract" ? `The contract's ${field} is not valid: ${messages[0]}` : `${field}: ${messages[0]}`;
    throw new MeshportError("invalid_input", message, { ...(fields.subject ? { subject: fields.subject } : {}), details: { fieldErrors: errors, formErrors: [] } });
  }
  return declaration;
}

/**
 * The declaration a contract carries on `info` (`x-meshport-kind`, `x-meshport-systems`), null when it carries
 * neither. An invalid value throws `invalid_input` (422) naming the field: the publish is refused.
 */
export function contractDeclaration(contract: Pick<Contract, "mesh">): MeshDeclaration | null {
  const mesh = contract.mesh;
  if (!mesh || (mesh.kind === undefined && mesh.systems === undefined)) return null;
  return readDeclaration(mesh, { kind: KIND_FIELD, systems: SYSTEMS_FIELD, subject: "contract" });
}

/** The kind an application shows: a service when nobody said. */
export function kindOf(app: { kind: ApplicationKind | null }): ApplicationKind {
  return app.kind ?? "service";
}

/** How each kind reads in the portal. */
export const KIND_LABELS: Record<ApplicationKind, string> = {
  "source-integration": "source integration",
  "target-integration": "target integration",
  service: "service",
  gateway: "gateway / bridge",
};

/** How each system type reads in the portal. */
export const SYSTEM_TYPE_LABELS: Record<SystemType, string> = {
  erp: "ERP",
  crm: "CRM",
  scm: "SCM",
  database: "database",
  "file-store": "file store",
  saas: "SaaS",
  analytics: "analytics",
  other: "other",
};

/**
 * A URL slug for a system's name: lowercase letters and digits with single hyphens, at most 60 characters; a name
 * with no Latin letters or digits left gets `system-` and six characters of a hash of the name, so such names do
 * not all compete for `system`, `system-2`, ….
 */
export function systemSlugOf(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/g, "");
  if (base === "") return `system-${nameHash(name)}`;
  return base.length >= 2 ? base : `system-${base}`;
}

/** Six base-36 characters of a 32-bit FNV-1a hash of the name (no node modules: pages import this file). */
function nameHash(name: string): string {
  let hash = 0x811c9dc5;
  for (const ch of name.normalize("NFC")) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(6, "0").slice(-6);
}

/** The kinds and system types, for pages (which read through lib/). */
export { APPLICATION_KINDS, SYSTEM_TYPES, type ApplicationKind, type SystemType };
