import "server-only";
import { z } from "zod";
import { getDb, type Database, type Transaction } from "@/db/client.ts";
import { recordAudit } from "@/lib/audit/record.ts";
import type { AuditAction } from "@/lib/audit/actions.ts";
import { assertCan, type Action } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError, zodErrorDetails } from "@/lib/errors.ts";

/*
 * The skeleton of every service function. A state change is a command:
 *
 *   1. the principal's role or token scope is checked (`permission`), before the input is read;
 *   2. the untrusted input (`unknown`) is validated (`input`: a zod schema, or a parse function
 *      built on one that throws `MeshportError`);
 *   3. in one transaction, the target is loaded and the principal's ownership of it checked
 *      (`authorize`), then the change is made (`run`);
 *   4. in the same transaction, the one audit entry of the change is written, with an action of
 *      `AUDIT_ACTIONS` named up front (`audit`); `run` supplies its target and details.
 *
 * A read is a query: the same permission and input steps, no transaction, no audit.
 */

/**
 * How a service reads its input: a zod schema (invalid input is refused with `invalid_input`
 * and field errors), or a function that validates and throws a `MeshportError` of its own.
 */
export type InputParser<T = unknown> = z.ZodType<T> | ((raw: unknown) => T | Promise<T>);

/** The validated value an input parser yields. */
export type Parsed<S> = S extends z.ZodType
  ? z.output<S>
  : S extends (raw: unknown) => infer T
    ? Awaited<T>
    : never;

/**
 * The role or scope action the principal needs, checked before the input is read.
 * `null` means no role check: only for commands whose `authorize` (ownership, such as a
 * team's maintainers) or `run` (the first-admin set-up) decides who may act, and says why.
 */
export type Permission = Action | null;

/** The target and details of the audit entry a command records; the action comes from the command. */
export interface AuditRecord<A extends AuditAction = AuditAction> {
  /** Required when the command declares several actions. */
  action?: A;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/** What `authorize` sees. */
export interface AuthorizeContext<I> {
  tx: Transaction;
  principal: Principal;
  input: I;
}

/** What a command's `run` sees. */
export interface CommandContext<I, A extends AuditAction, T> extends AuthorizeContext<I> {
  /** What `authorize` loaded and checked (undefined without `authorize`). */
  target: T;
  /**
   * Records an audit entry, written in this transaction once `run` returns. A command records one entry per
   * state change it makes: an approval that publishes records the approval and the publish.
   */
  audit(record: AuditRecord<A>): void;
}

/** The definition of a state change. */
export interface CommandSpec<S extends InputParser, R, A extends AuditAction, P extends unknown[], T> {
  permission: Permission;
  input: S;
  /** The action (or actions) of the audit entry this command writes. */
  audit: A | readonly A[];
  /**
   * `true` when a run may change nothing worth an entry (an agent report for a known broker):
   * then `run` records one only when it did. Otherwise a run that records none is a bug.
   */
  auditOptional?: boolean;
  /** Loads the target in the transaction and throws `forbidden` unless the principal may change it. */
  authorize?: (ctx: AuthorizeContext<Parsed<S>>, ...params: P) => Promise<T>;
  run: (ctx: CommandContext<Parsed<S>, A, T>, ...params: P) => Promise<R>;
}

/**
 * A command as services export it: the acting principal, any path parameters (ids and slugs
 * the caller names: `updateUser(principal, userId, input)`), then the untrusted input.
 */
export type Command<R, P extends unknown[] = []> = (principal: Principal, ...args: [...params: P, input: unknown]) => Promise<R>;

/** What a query's `run` sees. */
export interface QueryContext<I> {
  db: Database;
  principal: Principal;
  input: I;
}

/** The definition of a read. */
export interface QuerySpec<S extends InputParser, R, P extends unknown[]> {
  permission: Action;
  input: S;
  run: (ctx: QueryContext<Parsed<S>>, ...params: P) => Promise<R>;
}

/**
 * A query as services export it: the principal, any path parameters, then the untrusted input.
 * A query without parameters may leave its input out (its schema then sees `undefined`).
 */
export type Query<R, P extends unknown[] = []> = P extends []
  ? (principal: Principal, input?: unknown) => Promise<R>
  : (principal: Principal, ...args: [...params: P, input: unknown]) => Promise<R>;

/** Input of a service that takes none. */
export const noInput = z.undefined();

/** Input of a service that names one thing by id or slug (from a path, so not validated further). */
export const idInput = z.string();

/** Validates untrusted input with a parser; a zod schema's failures become `invalid_input` with field errors. */
export async function parseServiceInput<S extends InputParser>(parser: S, raw: unknown): Promise<Parsed<S>> {
  if (typeof parser !== "function") {
    const result = await parser.safeParseAsync(raw);
    if (!result.success) {
      throw new MeshportError("invalid_input", "The input is not valid.", { details: zodErrorDetails(result.error) });
    }
    return result.data as Parsed<S>;
  }
  return (await (parser as (raw: unknown) => unknown)(raw)) as Parsed<S>;
}

/** Defines a state change: permission, validated input, ownership, transaction and its one audit entry. */
export function defineCommand<S extends InputParser, R, A extends AuditAction, P extends unknown[] = [], T = undefined>(
  spec: CommandSpec<S, R, A, P, T>,
): Command<R, P> {
  const actions: readonly A[] = typeof spec.audit === "string" ? [spec.audit as A] : (spec.audit as readonly A[]);
  return async (principal, ...args) => {
    const { params, raw } = splitArgs<P>(args);
    if (spec.permission) assertCan(principal, spec.permission);
    const input = await parseServiceInput(spec.input, raw);
    const db = await getDb();
    return db.transaction(async (tx) => {
      const target = spec.authorize ? await spec.authorize({ tx, principal, input }, ...params) : (undefined as T);
      const pending: AuditRecord<A>[] = [];
      const result = await spec.run(
        {
          tx,
          principal,
          input,
          target,
          audit(record) {
            pending.push(record);
          },
        },
        ...params,
      );
      for (const record of pending) {
        const action = record.action ?? (actions.length === 1 ? actions[0] : undefined);
        if (!action || !actions.includes(action)) {
          throw new Error(`a command declared the audit actions ${actions.join(", ")} and recorded ${record.action ?? "none of them"}`);
        }
        await recordAudit(tx, principal, {
          action,
          targetType: record.targetType,
          targetId: record.targetId,
          ...(record.details !== undefined ? { details: record.details } : {}),
        });
      }
      if (pending.length === 0 && !spec.auditOptional) throw new Error(`a command must record its audit entry (${actions.join(", ")})`);
      return result;
    });
  };
}

/** Defines a read: permission and validated input, then the query against the database. */
export function defineQuery<S extends InputParser, R, P extends unknown[] = []>(spec: QuerySpec<S, R, P>): Query<R, P> {
  const query = async (principal: Principal, ...args: unknown[]): Promise<R> => {
    const { params, raw } = splitArgs<P>(args);
    assertCan(principal, spec.permission);
    const input = await parseServiceInput(spec.input, raw);
    const db = await getDb();
    return spec.run({ db, principal, input }, ...params);
  };
  return query as Query<R, P>;
}

/** Path parameters come first, the input last; a call without arguments has no input. */
function splitArgs<P extends unknown[]>(args: readonly unknown[]): { params: P; raw: unknown } {
  return { params: args.slice(0, -1) as P, raw: args.length > 0 ? args[args.length - 1] : undefined };
}
