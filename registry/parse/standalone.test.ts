/**
 * The precompiled document validators (ajv standalone code, what scripts/build-cli.mjs bundles into the CLI) judge
 * every corpus document exactly as the validators compiled at run time (what the portal and the sources use): same
 * ajv errors, same results of the two document rules. The code is generated and loaded in this process.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { CORE_SCHEMA, load } from "js-yaml";
import type { ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { corpusAvailable, corpusList, corpusText } from "../testing/corpus.ts";
import { dereference } from "./refs.ts";
import { checkResolvedDocument, checkUnresolvedDocument, loadDocumentValidators, standaloneDocumentValidators, standaloneResolveDir, type DocumentValidators } from "./schema-check.ts";
import { SUPPORTED_VERSIONS, acyclicView } from "./validate.ts";

const available = corpusAvailable();

/** Evaluates standalone code as the CommonJS module it is, its require()s resolved where the build resolves them. */
async function precompiled(version: string): Promise<DocumentValidators> {
  const code = await standaloneDocumentValidators(version);
  if (code === undefined) throw new Error(`no standalone code for ${version}`);
  const cjs = { exports: {} as { resolved: ValidateFunction; unresolved: ValidateFunction } };
  new Function("require", "module", "exports", code)(createRequire(path.join(standaloneResolveDir(), "standalone.js")), cjs, cjs.exports);
  return { version, resolved: { validate: cjs.exports.resolved }, unresolved: { validate: cjs.exports.unresolved } };
}

interface Case {
  name: string;
  version: string;
  raw: Record<string, unknown>;
  view: unknown;
}

/** Every corpus AsyncAPI document of a supported version, and a broken variant of each (more error paths). */
function corpusCases(): Case[] {
  const cases: Case[] = [];
  for (const file of corpusList("asyncapi").filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) {
    let raw: unknown;
    try {
      raw = load(corpusText("asyncapi", file), { schema: CORE_SCHEMA });
    } catch {
      continue;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw) || !("asyncapi" in raw)) continue;
    const version = String((raw as Record<string, unknown>).asyncapi);
    if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) continue;
    const root = raw as Record<string, unknown>;
    const broken = { ...root, info: { ...(root.info as object), title: 42, bogus: true }, channels: { "a/b": { $ref: 7, publish: "x" } }, unknownRoot: 1 };
    for (const [name, doc] of [[file, root], [`${file} (broken)`, broken]] as const) {
      const deref = dereference(new Map([["asyncapi.yaml", structuredClone(doc)]]), "asyncapi.yaml");
      cases.push({ name, version, raw: doc, view: acyclicView(deref.root, deref.edges) });
    }
  }
  return cases;
}

/** What a validator reports, as plain data. */
function errorsOf(validate: ValidateFunction, value: unknown): unknown {
  const valid = validate(value);
  return { valid, errors: structuredClone(validate.errors ?? null) };
}

describe.skipIf(!available)("precompiled AsyncAPI document validators", () => {
  it("report what the validators compiled at run time report, on every corpus document", async () => {
    const cases = corpusCases();
    const versions = [...new Set(cases.map((c) => c.version))].sort();
    expect(cases.length).toBeGreaterThan(100);
    let withErrors = 0;
    for (const version of versions) {
      const runtime = (await loadDocumentValidators(version))!;
      const ahead = await precompiled(version);
      for (const c of cases.filter((k) => k.version === version)) {
        expect(errorsOf(ahead.unresolved.validate, c.raw), `${c.name}: unresolved schema`).toEqual(errorsOf(runtime.unresolved.validate, c.raw));
        expect(errorsOf(ahead.resolved.validate, c.view), `${c.name}: resolved schema`).toEqual(errorsOf(runtime.resolved.validate, c.view));
        const results = { unresolved: checkUnresolvedDocument(c.raw, runtime), resolved: checkResolvedDocument(c.view, runtime) };
        expect({ unresolved: checkUnresolvedDocument(c.raw, ahead), resolved: checkResolvedDocument(c.view, ahead) }, c.name).toEqual(results);
        if (results.unresolved.length + results.resolved.length > 0) withErrors++;
      }
    }
    // The comparison covers documents with findings, not only valid ones.
    expect(withErrors).toBeGreaterThan(cases.length / 2 - 1);
  }, 180_000);
});
