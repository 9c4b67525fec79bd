import { createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Command } from "commander";
import type { CompareReport, Diagnostic, Finding } from "../../registry/types.ts";

/*
 * Commands that talk to a running portal over its HTTP API, for CI pipelines: `push` (publish a contract, or
 * submit it for review), `audit verify` and `audit export`. Exit codes: 0 done, 1 a negative verdict (refused,
 * needs review, chain broken), 2 unusable input, usage, credentials or an unreachable portal.
 */

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A problem the command reports on stderr and answers with exit code 2. */
export class UsageError extends Error {}

/** Where the portal is and who calls it. */
export interface PortalConnection {
  base: URL;
  token: string;
  /** Seconds to wait for the portal's answer to begin. */
  timeoutSeconds: number;
}

/** The connection options every portal command takes. */
export interface ConnectionOptions {
  portal?: string;
  token?: string;
  timeout?: string;
}

const MAX_TOKEN_LENGTH = 512;

/** The portal and token from the options, else from MESHPORT_PORTAL and MESHPORT_TOKEN. */
export function resolveConnection(options: ConnectionOptions, env: Readonly<Record<string, string | undefined>> = process.env): PortalConnection {
  const portal = (options.portal ?? env.MESHPORT_PORTAL ?? "").trim();
  const token = (options.token ?? env.MESHPORT_TOKEN ?? "").trim();
  if (!portal) throw new UsageError("name the portal with --portal URL or MESHPORT_PORTAL");
  if (!token) throw new UsageError("give an API token with --token T or MESHPORT_TOKEN");
  if (token.length > MAX_TOKEN_LENGTH || /[\s\u0000-\u001f\u007f]/.test(token)) throw new UsageError("the token is not a Meshport API token");
  let base: URL;
  try {
    base = new URL(portal);
  } catch {
    throw new UsageError(`--portal ${portal.slice(0, 200)} is not a URL`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new UsageError("--portal must be an http or https URL");
  if (base.username || base.password) throw new UsageError("--portal must not carry credentials; use --token");
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  base.search = "";
  base.hash = "";
  const timeoutSeconds = options.timeout === undefined ? 120 : Number(options.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) throw new UsageError("--timeout takes whole seconds from 1 to 3600");
  return { base, token, timeoutSeconds };
}

/** A portal URL: `apiPath` is relative to the portal's base (which may have a path of its own). */
export function portalUrl(connection: Pick<PortalConnection, "base">, apiPath: string, query?: URLSearchParams): URL {
  const url = new URL(apiPath.replace(/^\//, ""), connection.base);
  if (query && [...query.keys()].length > 0) url.search = query.toString();
  return url;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Calls the portal; a network failure or a timeout before the answer begins is a UsageError (exit 2). */
export async function callPortal(connection: PortalConnection, url: URL, init: { method?: string; body?: string } = {}): Promise<Response> {
  if (url.protocol === "http:" && !isLoopback(url.hostname)) process.stderr.write(`meshport: warning: the token travels unencrypted to ${url.host}; use https\n`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), connection.timeoutSeconds * 1000);
  try {
    return await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${connection.token}`,
        accept: "application/json",
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: controller.signal,
      redirect: "error",
    });
  } catch (error) {
    const cause = controller.signal.aborted
      ? `no answer within ${connection.timeoutSeconds} s`
      : ((error as { cause?: { code?: string; message?: string } }).cause?.code ?? (error as { cause?: Error }).cause?.message ?? (error instanceof Error ? error.message : String(error)));
    throw new UsageError(`cannot reach the portal at ${url.origin}: ${cause}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The API's error body. */
export interface ApiError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Reads a JSON answer; anything else means the URL is not a Meshport portal (exit 2). */
export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`the portal answered ${response.status} with something other than JSON: is --portal a Meshport portal?`);
  }
}

/** The `{ error }` of an answer, when it has one. */
export function apiError(body: unknown): ApiError | null {
  const error = (body as { error?: unknown } | null)?.error;
  if (!error || typeof error !== "object") return null;
  const e = error as Record<string, unknown>;
  return {
    code: typeof e.code === "string" ? e.code : "unknown",
    message: typeof e.message === "string" ? e.message : "The portal refused the request.",
    ...(e.details && typeof e.details === "object" ? { details: e.details as Record<string, unknown> } : {}),
  };
}

/** A refusal a command cannot go past: credentials, a missing application, bad input. Exit 2. */
function failedRequest(status: number, body: unknown): UsageError {
  const error = apiError(body);
  const message = error?.message ?? `the portal answered ${status}`;
  if (status === 401) return new UsageError(`the portal refused the token: ${message}`);
  if (status === 403) return new UsageError(`the token may not do this: ${message}`);
  return new UsageError(message);
}

// --- audit verify ---

/** What `GET /api/v1/audit/verify` answers. */
export interface VerifyAnswer {
  ok: boolean;
  entries: number;
  brokenAt: { seq: number; reason: string } | null;
  headHash: string;
}

/** The verdict of `audit verify`, as printed. */
export function formatVerify(answer: VerifyAnswer): string {
  if (answer.ok) return `Audit chain intact: ${answer.entries} entr${answer.entries === 1 ? "y" : "ies"} verified; head ${answer.headHash}.\n`;
  const reason = answer.brokenAt?.reason === "link_mismatch" ? "its link to the entry before does not match" : "its content does not match its hash";
  return `Audit chain BROKEN at entry #${answer.brokenAt?.seq}: ${reason} (${answer.brokenAt?.reason}); ${answer.entries} entries before it verified.\n`;
}

async function auditVerifyCommand(options: ConnectionOptions & { format?: string }): Promise<number> {
  const format = options.format ?? "text";
  if (format !== "text" && format !== "json") throw new UsageError(`unknown format ${format}; use text or json`);
  const connection = resolveConnection(options);
  const response = await callPortal(connection, portalUrl(connection, "api/v1/audit/verify"));
  const body = await readJson(response);
  if (!response.ok) throw failedRequest(response.status, body);
  const answer = body as VerifyAnswer;
  if (typeof answer.ok !== "boolean") throw new UsageError("the portal's answer is not an audit verification");
  process.stdout.write(format === "json" ? `${JSON.stringify(answer, null, 2)}\n` : formatVerify(answer));
  return answer.ok ? EXIT.ok : EXIT.failed;
}

// --- audit export ---

/** The filters of `audit export`, as options. */
export interface ExportOptions extends ConnectionOptions {
  format?: string;
  from?: string;
  to?: string;
  actor?: string;
  app?: string;
  action?: string[];
  targetType?: string;
  targetId?: string;
  output?: string;
}

/** The query of an export: format and filters, named as `GET /api/v1/audit/export` takes them. */
export function exportQuery(options: ExportOptions): URLSearchParams {
  const format = options.format ?? "csv";
  if (format !== "csv" && format !== "json") throw new UsageError(`unknown format ${format}; use csv or json`);
  const query = new URLSearchParams({ format });
  const single = { from: options.from, to: options.to, actor: options.actor, application: options.app, targetType: options.targetType, targetId: options.targetId };
  for (const [name, value] of Object.entries(single)) if (value !== undefined && value.trim() !== "") query.set(name, value.trim());
  for (const action of options.action ?? []) if (action.trim() !== "") query.append("action", action.trim());
  return query;
}

async function auditExportCommand(options: ExportOptions): Promise<number> {
  const query = exportQuery(options);
  const connection = resolveConnection(options);
  const response = await callPortal(connection, portalUrl(connection, "api/v1/audit/export", query));
  if (!response.ok || !response.body) throw failedRequest(response.status, await readJson(response));
  const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  if (!options.output) {
    try {
      await pipeline(source, process.stdout, { end: false });
    } catch (error) {
      throw new UsageError(`the export broke off: ${error instanceof Error ? error.message : String(error)}`);
    }
    return EXIT.ok;
  }
  // Written aside and renamed when whole: a transfer that breaks off never leaves a file that looks complete.
  const partial = `${options.output}.partial`;
  try {
    await pipeline(source, createWriteStream(partial, { flags: "w" }));
    await rename(partial, options.output);
  } catch (error) {
    await rm(partial, { force: true });
    throw new UsageError(`the export to ${options.output} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.stderr.write(`meshport: audit export written to ${options.output}\n`);
  return EXIT.ok;
}

// --- push ---

const PUSH_FORMATS = ["text", "json", "github", "markdown"] as const;
type PushFormat = (typeof PUSH_FORMATS)[number];

/** The options of `push`. */
export interface PushOptions extends ConnectionOptions {
  app?: string;
  version?: string;
  root?: string;
  review?: boolean;
  title?: string;
  description?: string;
  format?: string;
}

/** The files of a push: upload names (relative to their common folder, so `$ref`s resolve) and the paths given. */
export interface PushFiles {
  files: Record<string, string>;
  /** Upload name → the path as given on the command line. */
  display: Map<string, string>;
  /** The upload name of the root document: the first file given. */
  root: string;
}

/** Upload names of files: the base name of one file; paths relative to the common folder of several. */
export function uploadNames(files: readonly string[]): string[] {
  const absolute = files.map((f) => path.resolve(f));
  if (absolute.length === 1) return [path.basename(absolute[0]!)];
  const base = absolute.reduce((acc, f) => {
    let dir = acc;
    while (!f.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep)) dir = path.dirname(dir);
    return dir;
  }, path.dirname(absolute[0]!));
  return absolute.map((f) => path.relative(base, f).split(path.sep).join("/"));
}

async function readPushFiles(files: readonly string[]): Promise<PushFiles> {
  const names = uploadNames(files);
  if (new Set(names).size !== names.length) throw new UsageError("two of the files have the same name");
  const upload: Record<string, string> = {};
  const display = new Map<string, string>();
  for (let i = 0; i < files.length; i++) {
    try {
      upload[names[i]!] = await readFile(files[i]!, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${files[i]}: ${error instanceof Error ? error.message : String(error)}`);
    }
    display.set(names[i]!, files[i]!);
  }
  return { files: upload, display, root: names[0]! };
}

const APP_SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Checks the options of `push` (before any file is read or request sent). */
export function checkPushOptions(files: readonly string[], options: PushOptions): { app: string; format: PushFormat } {
  const format = (options.format ?? "text") as PushFormat;
  if (!PUSH_FORMATS.includes(format)) throw new UsageError(`unknown format ${options.format}; use ${PUSH_FORMATS.join(", ")}`);
  const app = options.app?.trim().toLowerCase() ?? "";
  if (!app) throw new UsageError("name the application with --app APP (its slug)");
  if (app.length > 100 || !APP_SLUG.test(app)) throw new UsageError(`--app ${app.slice(0, 100)} is not an application slug`);
  if (files.length === 0) throw new UsageError("name the contract's files");
  if (files.length > 50) throw new UsageError("a contract has at most 50 files");
  if (!options.review && (options.title !== undefined || options.description !== undefined)) throw new UsageError("--title and --description go with --review");
  if (options.title !== undefined && options.title.length > 200) throw new UsageError("--title takes at most 200 characters");
  if (options.description !== undefined && options.description.length > 20_000) throw new UsageError("--description takes at most 20000 characters");
  if (options.version !== undefined && options.version.length > 100) throw new UsageError("--version takes at most 100 characters");
  return { app, format };
}

/** The body of a push: `{ files, version?, root? }`, and `title?`, `description?` for a change request. */
export function pushBody(files: PushFiles, options: PushOptions): Record<string, unknown> {
  return {
    files: files.files,
    ...(options.version ? { version: options.version } : {}),
    ...(options.root ? { root: options.root } : Object.keys(files.files).length > 1 ? { root: files.root } : {}),
    ...(options.review && options.title !== undefined ? { title: options.title } : {}),
    ...(options.review && options.description !== undefined ? { description: options.description } : {}),
  };
}

/** What came of a push. */
export type PushOutcomeKind = "published" | "unchanged" | "submitted" | "review_required" | "refused" | "invalid";

/** A push's outcome, read from the portal's answer. */
export interface PushOutcome {
  kind: PushOutcomeKind;
  exitCode: number;
  status: number;
  app: string;
  body: Record<string, unknown>;
  /** The compare report of the answer (publish, refusal or the change request's evaluation). */
  report: CompareReport | null;
  error: ApiError | null;
  /** The change request's absolute URL, when one was opened. */
  changeRequestUrl: string | null;
}

const asRecord = (value: unknown): Record<string, unknown> => (value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

function reportOf(value: unknown): CompareReport | null {
  const report = asRecord(value);
  return typeof report.compatible === "boolean" && Array.isArray(report.findings) ? (report as unknown as CompareReport) : null;
}

/**
 * Reads the portal's answer to a push: 2xx published, unchanged or submitted (exit 0); 409 refused or needing a
 * review (exit 1); 422 invalid (exit 2). Anything else (credentials, a missing application) is a UsageError.
 */
export function pushOutcome(status: number, raw: unknown, app: string, review: boolean, base: URL): PushOutcome {
  const body = asRecord(raw);
  const error = apiError(raw);
  const common = { status, app, body, error };
  if (status >= 200 && status < 300) {
    if (review) {
      const request = asRecord(body.changeRequest);
      const url = typeof request.url === "string" ? new URL(request.url.replace(/^\//, ""), base).href : null;
      return { ...common, kind: "submitted", exitCode: EXIT.ok, report: reportOf(asRecord(body.evaluation).report), changeRequestUrl: url };
    }
    return { ...common, kind: status === 201 ? "published" : "unchanged", exitCode: EXIT.ok, report: reportOf(body.report), changeRequestUrl: null };
  }
  if (status === 409 && error) {
    const kind = error.code === "conflict:review_required" ? "review_required" : "refused";
    return { ...common, kind, exitCode: EXIT.failed, report: reportOf(error.details?.report), changeRequestUrl: null };
  }
  if (status === 422 && error) return { ...common, kind: "invalid", exitCode: EXIT.usage, report: null, changeRequestUrl: null };
  throw failedRequest(status, raw);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function versionOf(outcome: PushOutcome): string | null {
  const version = asRecord(outcome.body.version);
  return typeof version.version === "string" ? version.version : null;
}

function suggestedVersion(outcome: PushOutcome): string | null {
  const fromError = outcome.error?.details?.suggestedVersion;
  const fromEvaluation = asRecord(outcome.body.evaluation).suggestedVersion;
  const value = fromError ?? fromEvaluation;
  return typeof value === "string" ? value : null;
}

function blockersOf(outcome: PushOutcome): string[] {
  const list = outcome.error?.details?.blockers ?? asRecord(outcome.body.evaluation).blockers;
  // The need for a review is no blocker of a request opened for one; a refusal says it with its hint.
  return Array.isArray(list) ? list.filter((b) => asRecord(b).kind !== "review").map((b) => asRecord(b).message).filter((m): m is string => typeof m === "string") : [];
}

/** Where to open a change request, from a `review_required` refusal: the API path and the page. */
function reviewHint(outcome: PushOutcome, base: URL, files: readonly string[]): string {
  const details = outcome.error?.details ?? {};
  const page = typeof details.changeRequestPage === "string" ? new URL(details.changeRequestPage.replace(/^\//, ""), base).href : null;
  const api = typeof details.changeRequestsUrl === "string" ? new URL(details.changeRequestsUrl.replace(/^\//, ""), base).href : null;
  const command = `meshport push ${files.join(" ")} --app ${outcome.app} --review`;
  return [`Submit it for review: ${command}`, ...(page ? [`or open one on ${page}`] : []), ...(api ? [`(API: POST ${api})`] : [])].join(" ");
}

/** An affected application of the impact, as the outputs list it. */
interface AffectedRow {
  slug: string;
  team: string;
  role: string;
  breaking: boolean;
  findings: number;
  upgrade: string | null;
  evidence: string;
}

function affectedOf(outcome: PushOutcome): AffectedRow[] {
  const apps = asRecord(outcome.body.impact).applications;
  if (!Array.isArray(apps)) return [];
  return apps.map((raw) => {
    const a = asRecord(raw);
    const ref = asRecord(a.application);
    const evidence = Array.isArray(a.evidence) ? [...new Set(a.evidence.map((e) => asRecord(e).kind).filter((k): k is string => typeof k === "string"))] : [];
    return {
      slug: String(ref.slug ?? "?"),
      team: String(ref.teamSlug ?? ref.teamName ?? ""),
      role: String(a.role ?? ""),
      breaking: a.breaking === true,
      findings: typeof a.findingCount === "number" ? a.findingCount : Array.isArray(a.findings) ? a.findings.length : 0,
      upgrade: typeof a.upgrade === "string" ? a.upgrade : null,
      evidence: evidence.join(", "),
    };
  });
}

function reviewersOf(outcome: PushOutcome): string[] {
  const list = outcome.body.reviewers;
  if (!Array.isArray(list)) return [];
  return list.map((raw) => {
    const r = asRecord(raw);
    const team = asRecord(r.team);
    const name = String(team.slug ?? r.teamSlug ?? r.teamId ?? "?");
    const apps = Array.isArray(r.applications) && r.applications.length > 0 ? ` for ${r.applications.join(", ")}` : "";
    return `${name} (${String(r.reason ?? "reviewer")}${apps})`;
  });
}

/** The one-line verdict of a push. */
export function pushHeadline(outcome: PushOutcome): string {
  const version = versionOf(outcome);
  const request = asRecord(outcome.body.changeRequest);
  switch (outcome.kind) {
    case "published":
      return `Published ${outcome.app} ${version ?? ""}`.trim() + ".";
    case "unchanged":
      return `${outcome.app} ${version ?? ""} already holds this content: nothing new published.`.replace("  ", " ");
    case "submitted":
      return `Change request #${String(request.number ?? "?")} opened for ${outcome.app} (${String(request.state ?? "open")})${outcome.changeRequestUrl ? `: ${outcome.changeRequestUrl}` : ""}.`;
    case "review_required":
      return `Review required for ${outcome.app}: ${outcome.error?.message ?? ""}`;
    case "refused":
      return `Refused for ${outcome.app} (${outcome.error?.code}): ${outcome.error?.message ?? ""}`;
    case "invalid":
      return `Invalid for ${outcome.app} (${outcome.error?.code}): ${outcome.error?.message ?? ""}`;
  }
}

function diagnosticsOf(outcome: PushOutcome, files: PushFiles): Diagnostic[] {
  const list = outcome.error?.details?.diagnostics;
  if (!Array.isArray(list)) return [];
  return (list as Diagnostic[]).map((d) => ({ ...d, file: files.display.get(d.file) ?? d.file, path: Array.isArray(d.path) ? d.path : [] }));
}

/** Formatting needs the report printers and the line locator of the engine, loaded only when a push prints. */
export async function formatPush(format: PushFormat, outcome: PushOutcome, files: PushFiles, base: URL): Promise<string> {
  const { formatText, formatMarkdown, formatGithub, formatDiagnostics, toJsonReport } = await import("../../registry/report/index.ts");
  const report = outcome.report;
  const suggested = suggestedVersion(outcome);
  const blockers = blockersOf(outcome);
  const affected = affectedOf(outcome);
  const reviewers = reviewersOf(outcome);
  const diagnostics = diagnosticsOf(outcome, files);
  const givenFiles = [...files.display.values()];

  if (format === "json") {
    return `${JSON.stringify({ outcome: outcome.kind, exitCode: outcome.exitCode, status: outcome.status, app: outcome.app, report: report ? toJsonReport(report) : null, ...(outcome.changeRequestUrl ? { changeRequestUrl: outcome.changeRequestUrl } : {}), response: outcome.body }, null, 2)}\n`;
  }

  if (format === "github") {
    const [{ locator }, { parse }] = await Promise.all([import("../../registry/parse/positions.ts"), import("yaml")]);
    const rootFile = files.display.get(files.root) ?? files.root;
    const rootText = files.files[files.root] ?? "";
    const find = locator(rootText);
    let document: unknown;
    try {
      document = parse(rootText, { maxAliasCount: 100, uniqueKeys: false });
    } catch {
      document = undefined;
    }
    const lines: string[] = [];
    if (report) {
      // A removed element is not in the pushed file: its nearest surviving parent is.
      const located = formatGithub(report, (f: Finding) => {
        const pointer = f.currentPath ?? f.previousPath;
        return pointer !== undefined ? { file: rootFile, ...find(physicalPath(document, pointerSegments(pointer))) } : { file: rootFile };
      }).trimEnd().split("\n");
      // Breaking findings are errors; every other finding is a warning to look at.
      located.forEach((line, i) => {
        const finding = report.findings[i];
        lines.push(finding && finding.verdict !== "breaking" ? line.replace(/^::(notice|warning) /, "::warning ") : line);
      });
    }
    for (const d of diagnostics.filter((x) => x.severity === "error")) {
      const props = [`file=${escapeProperty(d.file)}`, ...(d.line !== undefined ? [`line=${d.line}`] : []), ...(d.column !== undefined ? [`col=${d.column}`] : []), `title=${escapeProperty(d.code)}`];
      lines.push(`::error ${props.join(",")}::${escapeData(d.message)}`);
    }
    for (const b of blockers) lines.push(`::error title=meshport::${escapeData(b)}`);
    const level = outcome.exitCode === EXIT.ok ? "notice" : "error";
    let headline = pushHeadline(outcome);
    if (outcome.kind === "review_required") headline += ` ${reviewHint(outcome, base, givenFiles)}`;
    if (suggested && outcome.exitCode !== EXIT.ok) headline += ` Suggested version: ${suggested}.`;
    lines.push(`::${level} title=meshport push::${escapeData(headline)}`);
    return `${lines.join("\n")}\n`;
  }

  if (format === "markdown") {
    const icon = { published: "✅", unchanged: "✅", submitted: "📝", review_required: "⚠️", refused: "❌", invalid: "❌" }[outcome.kind];
    const parts = [`## ${icon} meshport push: \`${md(outcome.app)}\``, "", md(pushHeadline(outcome)), ""];
    if (outcome.changeRequestUrl) parts.push(`**Change request:** [#${String(asRecord(outcome.body.changeRequest).number ?? "")}](${outcome.changeRequestUrl})`, "");
    if (outcome.kind === "review_required") parts.push(md(reviewHint(outcome, base, givenFiles)), "");
    if (suggested) parts.push(`**Suggested version:** \`${md(suggested)}\``, "");
    if (blockers.length > 0) parts.push("**Blocking:**", ...blockers.map((b) => `- ${md(b)}`), "");
    if (report) parts.push(formatMarkdown(report).trimEnd(), "");
    if (affected.length > 0) {
      parts.push(
        "#### Affected applications",
        "",
        "| Application | Team | Role | Breaks | Findings | Upgrade | Seen in |",
        "|---|---|---|---|---|---|---|",
        ...affected.map((a) => `| \`${md(a.slug)}\` | ${md(a.team)} | ${md(a.role)} | ${a.breaking ? "**yes**" : "no"} | ${a.findings} | ${md(a.upgrade ?? "—")} | ${md(a.evidence || "—")} |`),
        "",
      );
    } else if (outcome.kind === "submitted") parts.push("No other application is affected.", "");
    if (reviewers.length > 0) parts.push(`**Reviewers requested:** ${reviewers.map(md).join(", ")}`, "");
    if (diagnostics.length > 0) parts.push("```", formatDiagnostics(diagnostics).trimEnd(), "```", "");
    return `${parts.join("\n").trimEnd()}\n`;
  }

  const lines = [pushHeadline(outcome)];
  if (outcome.kind === "review_required") lines.push(reviewHint(outcome, base, givenFiles));
  if (suggested && outcome.exitCode !== EXIT.ok) lines.push(`Suggested version: ${suggested}.`);
  for (const b of blockers) lines.push(`Blocked: ${b}`);
  if (affected.length > 0) {
    lines.push(`Affected applications (${affected.length}):`);
    for (const a of affected) lines.push(`  ${a.slug} (${a.team}, ${a.role})${a.breaking ? " BREAKS" : ""}: ${plural(a.findings, "finding")}${a.upgrade ? `; ${a.upgrade}` : ""}`);
  }
  if (reviewers.length > 0) lines.push(`Reviewers requested: ${reviewers.join(", ")}`);
  let text = `${lines.join("\n")}\n`;
  if (report) text += formatText(report);
  if (diagnostics.length > 0) text += formatDiagnostics(diagnostics);
  return text;
}

/** The keys of a JSON Pointer. */
export function pointerSegments(pointer: string): string[] {
  return pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const MAX_REF_HOPS = 20;

/**
 * Where a path of the contract is written in the document: the engine's paths run through `$ref`s (a channel's
 * message, then its payload), so each local `$ref` met on the way is followed to the text it points at. Keys
 * past what the document holds are kept: the locator then lands on the nearest part that exists.
 */
export function physicalPath(document: unknown, segments: readonly string[]): string[] {
  const at = (keys: readonly string[]): unknown => {
    let node = document;
    for (const key of keys) {
      if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  };
  let physical: string[] = [];
  let node = document;
  let hops = 0;
  for (let i = 0; i < segments.length; i++) {
    const key = segments[i]!;
    for (;;) {
      if (node === null || typeof node !== "object" || Object.hasOwn(node, key)) break;
      const ref = (node as Record<string, unknown>).$ref;
      if (typeof ref !== "string" || !ref.startsWith("#/") || ++hops > MAX_REF_HOPS) break;
      const target = pointerSegments(ref.slice(1));
      const resolved = at(target);
      if (resolved === undefined) break;
      physical = target;
      node = resolved;
    }
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return [...physical, ...segments.slice(i)];
    node = (node as Record<string, unknown>)[key];
    physical.push(key);
  }
  return physical;
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const escapeData = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

async function pushCommand(fileArgs: string[], options: PushOptions): Promise<number> {
  const { app, format } = checkPushOptions(fileArgs, options);
  const connection = resolveConnection(options);
  const files = await readPushFiles(fileArgs);
  const apiPath = `api/v1/applications/${encodeURIComponent(app)}/${options.review ? "change-requests" : "versions"}`;
  const response = await callPortal(connection, portalUrl(connection, apiPath), { method: "POST", body: JSON.stringify(pushBody(files, options)) });
  const outcome = pushOutcome(response.status, await readJson(response), app, options.review === true, connection.base);
  const text = await formatPush(format, outcome, files, connection.base);
  // Refusals go to stdout too in the machine formats (annotations, comments, JSON); in text, to stderr.
  (format === "text" && outcome.exitCode !== EXIT.ok ? process.stderr : process.stdout).write(text);
  return outcome.exitCode;
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`meshport: ${error.message}\n`);
    process.exitCode = EXIT.usage;
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function connectionOptions(command: Command): Command {
  return command
    .option("--portal <url>", "the portal's URL (or MESHPORT_PORTAL)")
    .option("--token <token>", "an API token (or MESHPORT_TOKEN)")
    .option("--timeout <seconds>", "seconds to wait for the portal to answer", "120");
}

/** Registers `push` and `audit verify|export`, the commands that talk to a portal over HTTP. */
export function registerPortalCommands(program: Command): void {
  connectionOptions(
    program
      .command("push")
      .description("Publish a contract to a portal, or submit it for review (exit 0 published or submitted, 1 refused or needs review, 2 invalid)")
      .argument("<files...>", "the contract's files, its root document first")
      .requiredOption("--app <app>", "the application's slug")
      .option("--version <version>", "the version number (default: the document's info.version)")
      .option("--root <file>", "the root document's upload name (default: the first file)")
      .option("--review", "open a change request instead of publishing directly")
      .option("--title <title>", "the change request's title (with --review)")
      .option("--description <text>", "the change request's description (with --review)")
      .option("--format <format>", "text, json, github (workflow annotations) or markdown (a pull request comment)", "text"),
  ).action((files: string[], options: PushOptions) => run(() => pushCommand(files, options)));

  const audit = program.command("audit").description("The portal's tamper-evident audit log");
  connectionOptions(
    audit
      .command("verify")
      .description("Recompute the audit hash chain on the portal (exit 0 intact, 1 broken)")
      .option("--format <format>", "text or json", "text"),
  ).action((options: ConnectionOptions & { format?: string }) => run(() => auditVerifyCommand(options)));
  connectionOptions(
    audit
      .command("export")
      .description("Stream the audit log, or the entries the filters select, newest first")
      .option("--format <format>", "csv or json (one array, an entry a line)", "csv")
      .option("--from <instant>", "entries at or after (ISO date or date and time; UTC unless an offset is given)")
      .option("--to <instant>", "entries up to the end of this day, minute or second")
      .option("--actor <actor>", "an actor's id or label (email, or `token NAME`)")
      .option("--app <app>", "entries about this application (slug)")
      .option("--action <action>", "an action, or a prefix such as change_request. (repeat, or separate with commas)", collect)
      .option("--target-type <type>", "entries about targets of this type")
      .option("--target-id <id>", "entries about this target")
      .option("--output <file>", "write to this file instead of stdout"),
  ).action((options: ExportOptions) => run(() => auditExportCommand(options)));
}
