/**
 * Conformance against the public corpus in ../shared/corpus (or $MESHPORT_CORPUS); see its README.
 * Skipped loudly when the corpus is absent, failing in CI. Nothing from the corpus is copied into the repository.
 */
import { CORE_SCHEMA, load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { compare } from "./compare.ts";
import { diffSchemas, isUpdateCompatible } from "./jsonschema/diff.ts";
import { normalise } from "./normalise/index.ts";
import { parseContract, type ParseOptions } from "./parse/index.ts";
import { corpusAvailable, corpusDocuments, corpusList, corpusText } from "./testing/corpus.ts";
import type { Contract, Finding, ParseResult } from "./types.ts";

const available = corpusAvailable();

/** Documents refused on their own, and the precise reason (diagnostic code + words of its message). */
const EXPECTED_REFUSALS: Record<string, { code: string; contains: string }> = {
  "asyncapi-cli__test__fixtures__specification-invalid.yml": { code: "asyncapi-document-resolved", contains: '"info" property must have required property "version"' },
  "asyncapi-converter-js__test__input__2.0.0__streetlights.json": { code: "asyncapi-document-resolved", contains: 'Property "name" is not expected' },
  "asyncapi-spec@v2.0.0__examples__2.0.0__correlation-id.yml": { code: "asyncapi2-server-security", contains: "undefined security scheme" },
  "asyncapi-diff__test__spec__asyncapi-v3-diff.yml": { code: "asyncapi3-channel-parameters", contains: "Missed: userid" },
  "asyncapi-spec@v3.0.0__examples__adeo-kafka-request-reply-asyncapi.yml": { code: "ref-remote", contains: "https://deploy-preview-921--asyncapi-website.netlify.app/resources/casestudies/adeo/CostingResponseKey.avsc" },
  "asyncapi-converter-js__test__input__2.6.0__for-3.0.0.yml": { code: "ref-remote", contains: "https://example.com/message" },
  "asyncapi-converter-js__test__output__3.0.0__from-2.6.0.yml": { code: "ref-remote", contains: "https://example.com/message" },
  "asyncapi-parser-js__packages__parser__test__mocks__simple-with-refs.yaml": { code: "ref-outside-upload", contains: "./refs-1.yaml" },
  "asyncapi-spec@v3.0.0__examples__social-media__backend__asyncapi.yaml": { code: "ref-outside-upload", contains: "../common/messages.yaml#/commentChanged" },
  "asyncapi-spec@v3.0.0__examples__social-media__comments-service__asyncapi.yaml": { code: "ref-outside-upload", contains: "../common/parameters.yaml#/commentId" },
  "asyncapi-spec@v3.0.0__examples__social-media__frontend__asyncapi.yaml": { code: "ref-outside-upload", contains: "../common/servers.yaml#/websiteWebSocketServer" },
  "asyncapi-spec@v3.0.0__examples__social-media__notification-service__asyncapi.yaml": { code: "ref-outside-upload", contains: "../common/messages.yaml#/commentLiked" },
  "asyncapi-spec@v3.0.0__examples__social-media__public-api__asyncapi.yaml": { code: "ref-outside-upload", contains: "../common/messages.yaml#/commentLiked" },
};

const cache = new Map<string, Promise<ParseResult>>();
function parsed(file: string, options: ParseOptions = {}): Promise<ParseResult> {
  const key = `${file} ${options.validation ?? "auto"}`;
  if (!cache.has(key)) cache.set(key, parseContract({ [file]: corpusText("asyncapi", file) }, options));
  return cache.get(key)!;
}

describe.skipIf(!available)("conformance: AsyncAPI corpus documents", () => {
  const documents = available ? corpusDocuments() : [];

  for (const doc of documents) {
    it(`${doc.file} parses or is refused for its expected reason`, async () => {
      const result = await parsed(doc.file);
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      if (doc.kind.startsWith("fragment")) {
        expect(errors.map((d) => d.code)).toEqual(["no-root"]);
        return;
      }
      const expected = EXPECTED_REFUSALS[doc.file];
      if (expected) {
        expect(result.contract).toBeUndefined();
        expect(errors.some((d) => d.code === expected.code && d.message.includes(expected.contains)), JSON.stringify(errors, null, 1)).toBe(true);
        expect(errors.every((d) => d.line !== undefined || d.code.startsWith("ref-"))).toBe(true);
      } else {
        expect(errors, `${doc.file}: ${errors.map((d) => d.message).join("; ")}`).toEqual([]);
        expect(result.contract?.asyncapi).toBe(doc.version);
      }
    }, 20_000);
  }

  it("resolves multi-file contracts uploaded together (social-media, parser-js mocks)", async () => {
    const upload = (match: string, strip: string) =>
      Object.fromEntries(documents.filter((d) => d.file.includes(match)).map((d) => [d.path.replace(strip, ""), corpusText("asyncapi", d.file)]));
    const social = upload("social-media", "examples/social-media/");
    for (const root of ["backend/asyncapi.yaml", "comments-service/asyncapi.yaml", "frontend/asyncapi.yaml", "notification-service/asyncapi.yaml", "public-api/asyncapi.yaml"]) {
      const result = await parseContract(social, { root });
      expect(result.diagnostics.filter((d) => d.severity === "error"), root).toEqual([]);
      expect(Object.keys(result.contract!.channels).length).toBeGreaterThan(0);
    }
    const mocks = upload("parser__test__mocks__", "packages/parser/test/mocks/");
    const refs = await parseContract({ "simple-with-refs.yaml": mocks["simple-with-refs.yaml"]!, "refs-1.yaml": mocks["refs-1.yaml"]!, "refs-2.yaml": mocks["refs-2.yaml"]! });
    expect(refs.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  }, 30_000);

  it("compares the same contract written in 2.6 and 3.0 as compatible", async () => {
    const pairs = [
      ["asyncapi-spec@v2.6.0__examples__streetlights-mqtt.yml", "asyncapi-spec@v3.0.0__examples__streetlights-mqtt-asyncapi.yml"],
      ["asyncapi-spec@v2.6.0__examples__streetlights-kafka.yml", "asyncapi-spec@v3.0.0__examples__streetlights-kafka-asyncapi.yml"],
      ["asyncapi-spec@v2.6.0__examples__slack-rtm.yml", "asyncapi-spec@v3.0.0__examples__slack-rtm-asyncapi.yml"],
      ["asyncapi-spec@v2.6.0__examples__websocket-gemini.yml", "asyncapi-spec@v3.0.0__examples__websocket-gemini-asyncapi.yml"],
      ["asyncapi-converter-js__test__input__2.6.0__for-3.0.0-with-deep-local-references.yml", "asyncapi-converter-js__test__output__3.0.0__from-2.6.0-with-deep-local-references.yml"],
    ];
    for (const [v2, v3] of pairs) {
      const a = (await parsed(v2!)).contract!;
      const b = (await parsed(v3!)).contract!;
      for (const mode of ["BACKWARD", "FORWARD", "FULL"] as const) {
        for (const [x, y] of [[a, b], [b, a]] as const) {
          const report = compare(x, y, { mode });
          expect(report.findings.filter((f) => f.verdict === "breaking"), `${v2} ↔ ${v3} ${mode}`).toEqual([]);
          expect(report.compatible).toBe(true);
        }
      }
    }
  }, 30_000);
});

describe.skipIf(!available)("conformance: Confluent JSON Schema compatibility cases", () => {
  it("matches the compatible verdict on at least 98% of the 132 cases, and reports the change lists", () => {
    const cases = available
      ? corpusList("jsonschema-compat")
          .filter((f) => f.endsWith(".json"))
          .flatMap((f) => JSON.parse(corpusText("jsonschema-compat", f)) as { description: string; original_schema: unknown; update_schema: unknown; changes: string[]; compatible: boolean; compatible_lenient?: boolean }[])
      : [];
    let verdicts = 0;
    let lists = 0;
    let lenientCases = 0;
    let lenientVerdicts = 0;
    const misses: string[] = [];
    for (const c of cases) {
      const ours = diffSchemas(c.original_schema, c.update_schema).map((x) => `${x.type} ${x.path}`);
      const compatible = isUpdateCompatible(c.original_schema, c.update_schema);
      if (compatible === c.compatible) verdicts++;
      else misses.push(`verdict: "${c.description}": ours ${compatible}, theirs ${c.compatible}`);
      if (c.compatible_lenient !== undefined) {
        lenientCases++;
        const lenient = isUpdateCompatible(c.original_schema, c.update_schema, { lenient: true });
        if (lenient === c.compatible_lenient) lenientVerdicts++;
        else misses.push(`lenient verdict: "${c.description}": ours ${lenient}, theirs ${c.compatible_lenient}`);
      }
      // Change lists compare as multisets: Confluent's order follows its Java object traversal.
      if ([...ours].sort().join("\n") === [...c.changes].sort().join("\n")) lists++;
      else misses.push(`changes: "${c.description}": ours [${ours.join(", ")}], theirs [${c.changes.join(", ")}]`);
    }
    console.log(`Confluent JSON Schema cases: verdict ${verdicts}/${cases.length} (${((100 * verdicts) / cases.length).toFixed(1)}%), change lists ${lists}/${cases.length} (${((100 * lists) / cases.length).toFixed(1)}%), lenient verdict ${lenientVerdicts}/${lenientCases}`);
    for (const miss of misses) console.log(`  miss ${miss}`);
    expect(cases.length).toBe(132);
    expect(verdicts / cases.length).toBeGreaterThanOrEqual(0.98);
  });
});

interface DiffExpectation {
  before?: string;
  after?: string;
  before_doc?: Record<string, unknown>;
  after_doc?: Record<string, unknown>;
  overrides?: unknown;
  expected: { changes: { action: string; path: string; type: "breaking" | "non-breaking" | "unclassified" }[] };
}

/** Their change and our finding concern the same element: one path contains the other, or the same server. */
function related(theirs: string, finding: Finding): boolean {
  return [finding.previousPath, finding.currentPath].some((ours) => {
    if (ours === undefined) return false;
    if (ours.startsWith(theirs) || theirs.startsWith(ours)) return true;
    const server = /^\/servers\/[^/]+/.exec(theirs)?.[0];
    return server !== undefined && ours.startsWith(server + "/");
  });
}

/**
 * @asyncapi/diff reports one edit at every path that reaches it through a resolved `$ref`
 * (`/operations/x/channel/servers/0/host`). Follows the references in the raw document to the edited element's own
 * location (`/servers/production/host`), so the same edit is matched once, where it was made.
 */
function canonicalPath(raw: unknown, pointer: string): string {
  let node = raw;
  let canonical: string[] = [];
  for (const segment of pointer.split("/").slice(1)) {
    const key = segment.replace(/~1/g, "/").replace(/~0/g, "~");
    for (let hops = 0; hops < 16 && node !== null && typeof node === "object" && typeof (node as { $ref?: unknown }).$ref === "string"; hops++) {
      const ref = (node as { $ref: string }).$ref;
      if (!ref.startsWith("#/")) break;
      canonical = ref.slice(2).split("/");
      node = canonical.reduce<unknown>((n, k) => (n !== null && typeof n === "object" ? (n as Record<string, unknown>)[k.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), raw);
    }
    node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    canonical.push(segment);
  }
  return "/" + canonical.join("/");
}

/**
 * Deliberate divergence: @asyncapi/diff calls an edit of `info.version` breaking. The document's own version number
 * is informational in Meshport (the registry numbers versions and suggests the bump), so INFO_VERSION_CHANGED is not.
 */
const DELIBERATE = new Set(["/info/version"]);

describe.skipIf(!available)("conformance: @asyncapi/diff classification pairs", () => {
  it("finds breaking everything they classify breaking, and classifies what they leave unclassified", async () => {
    let breaking = 0;
    let covered = 0;
    let unclassified = 0;
    let classified = 0;
    let reportedUnclassified = 0;
    const misses: string[] = [];
    const contractOf = async (file: string | undefined, doc: Record<string, unknown> | undefined): Promise<Contract> => {
      if (doc) return normalise(structuredClone(doc));
      // asyncapi-v3-diff.yml fails Spectral's channel-parameters rule; the pairs are compared after JSON Schema validation only.
      const result = await parseContract({ [file!]: corpusText("asyncapi-diff", file!) }, { validation: "schema-only" });
      expect(result.diagnostics.filter((d) => d.severity === "error"), file).toEqual([]);
      return result.contract!;
    };
    for (const name of available ? corpusList("asyncapi-diff", "derived") : []) {
      const pair = JSON.parse(corpusText("asyncapi-diff", "derived", name)) as DiffExpectation;
      if (pair.overrides) {
        console.log(`asyncapi-diff: ${name} skipped (tests @asyncapi/diff's user overrides, not its classification)`);
        continue;
      }
      const report = compare(await contractOf(pair.before, pair.before_doc), await contractOf(pair.after, pair.after_doc));
      const raw = pair.before_doc ?? load(corpusText("asyncapi-diff", pair.before!), { schema: CORE_SCHEMA });
      const seen = new Set<string>();
      for (const { path: reported, ...change } of pair.expected.changes) {
        if (/\/x-parser-/.test(reported)) continue;
        if (change.type === "unclassified") reportedUnclassified++;
        const path = canonicalPath(raw, reported);
        if (seen.has(`${change.type} ${path}`)) continue;
        seen.add(`${change.type} ${path}`);
        if (change.type === "breaking") {
          if (DELIBERATE.has(path)) {
            console.log(`asyncapi-diff: ${name}: ${path} deliberately not breaking (INFO_VERSION_CHANGED is informational)`);
            continue;
          }
          breaking++;
          if (report.findings.some((f) => f.verdict === "breaking" && related(path, f))) covered++;
          else misses.push(`${name}: ${change.action} ${path} is breaking for @asyncapi/diff, not for us`);
        } else if (change.type === "unclassified") {
          unclassified++;
          if (report.findings.some((f) => f.verdict !== "unclassified" && related(path, f))) classified++;
          else console.log(`asyncapi-diff: ${name}: unclassified ${path} not classified by us either`);
        }
      }
    }
    console.log(`asyncapi-diff: breaking ${covered}/${breaking} also breaking for us; unclassified by them ${reportedUnclassified} reported = ${unclassified} distinct edits once $ref echoes are merged (parser artefacts aside), of which we classify ${classified}`);
    for (const miss of misses) console.log(`  miss ${miss}`);
    expect(misses).toEqual([]);
  }, 30_000);
});
