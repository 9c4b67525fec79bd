/**
 * Every action the audit log records, in one list: services can only record one of these
 * (`recordAudit` and `defineCommand` take an `AuditAction`), so a typo is a type error and
 * the log's vocabulary is readable here. Renaming one breaks filters on old entries: add, never rename.
 */
export const AUDIT_ACTIONS = [
  // accounts
  "user.create",
  "user.create_first_admin",
  "user.update",
  "session.sign_in",
  "session.sign_in_failed",
  "session.sign_out",
  "session.sign_out_others",
  "account.password_change",
  "account.profile_update",
  "team.create",
  "team.member.set",
  "team.member.remove",
  // API tokens
  "token.create",
  "token.revoke",
  // brokers of the mesh
  "broker.declare",
  "broker.register",
  "bridge.declare",
  "bridge.remove",
  "bridge.discover",
  // catalog
  "application.create",
  "application.update",
  "application.kind.set",
  "system.create",
  "system.update",
  "system.delete",
  // contracts
  "contract.publish",
  "contract.release",
  "contract.deprecate",
  "contract.retire",
  // change review
  "change_request.open",
  "change_request.revise",
  "change_request.comment",
  "change_request.approve",
  "change_request.request_changes",
  "change_request.reevaluate",
  "change_request.override",
  "change_request.reject",
  "change_request.withdraw",
  // drift between the contracts and what flows
  "drift.finding.open",
  "drift.finding.reopen",
  "drift.finding.resolve",
  "drift.finding.acknowledge",
  "drift.finding.unacknowledge",
  // the mesh-wide schema registry
  "registry.schema.register",
  "registry.subject.delete",
  "registry.version.delete",
  "registry.config.set",
  "registry.config.delete",
  "registry.mode.set",
  "registry.mode.delete",
  "registry.subject.link",
  "registry.subject.unlink",
  "registry.subject.owner",
  // notifications
  "webhook.create",
  "webhook.update",
  "webhook.delete",
  "webhook.test",
] as const;

/** One audit action. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** True when the text names a known audit action. */
export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}
