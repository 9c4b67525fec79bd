import { createHash } from "node:crypto";

/** The hash before the first entry of the chain. */
export const GENESIS_HASH = "0".repeat(64);

/** The fields of an audit entry that its hash covers. */
export interface AuditContent {
  at: Date;
  actorKind: string;
  actorId: string;
  actorLabel: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

/** JSON with object keys sorted at every level, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The hash of an entry: SHA-256 over the previous hash and the entry's canonical content. */
export function auditHash(prevHash: string, content: AuditContent): string {
  const body = canonicalJson({
    at: content.at.toISOString(),
    actorKind: content.actorKind,
    actorId: content.actorId,
    actorLabel: content.actorLabel,
    action: content.action,
    targetType: content.targetType,
    targetId: content.targetId,
    details: content.details,
  });
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}
