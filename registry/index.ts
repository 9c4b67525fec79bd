/**
 * Meshport's contract engine: parse and validate AsyncAPI 2.x/3.0, normalise into one Contract model, compare
 * two versions with named rules under Confluent compatibility modes, lint, suggest semver and hash schemas.
 * Pure: no I/O beyond the texts it is given, no imports from the portal.
 */

export type * from "./types.ts";
/** The Confluent compatibility modes, in the order Confluent lists them. */
export { COMPATIBILITY_MODES } from "./types.ts";

/** Parses an upload (file name → text) into a Contract with diagnostics; never throws for bad input. */
export { parseContract } from "./parse/index.ts";
/** Reads, bounds, validates and dereferences an upload without normalising it (benchmarks, tools). */
export { loadUpload } from "./parse/index.ts";
/** Default size, nesting and alias-expansion limits of the parser. */
export { DEFAULT_LIMITS } from "./parse/index.ts";
/** Types of the parser's options and inputs. */
export type { Upload, ParseOptions, LoadedUpload, Limits } from "./parse/index.ts";

/** Normalises a dereferenced AsyncAPI document into a Contract. */
export { normalise } from "./normalise/index.ts";

/** Compares two contracts under a mode and classifies every change. */
export { compare, type CompareOptions } from "./compare.ts";
/** The neutral differ: typed changes between two contracts, before classification. */
export { diffContracts } from "./diff/index.ts";

/** Checks a JSON Schema against its previous version under a Confluent mode. */
export { checkSchemaCompatibility, type SchemaCompatibility, type SchemaCompatibilityOptions } from "./jsonschema/index.ts";
/** Lists Confluent-style changes between two JSON Schemas. */
export { diffSchemas, type SchemaChange } from "./jsonschema/index.ts";
/** The one reader/writer payload checker: a reader schema accepts everything a writer schema allows; both directions of an evolution; a mode's verdict. */
export { readerAccepts, checkEvolution, modeAccepts, type ReaderWriterResult, type EvolutionChange, type EvolutionCheck } from "./jsonschema/index.ts";
/** Confluent's JSON Schema change types with their backward/forward compatibility. */
export { SCHEMA_CHANGE_TYPES, type SchemaChangeType } from "./jsonschema/index.ts";

/** Every rule of the engine as data (renders the portal's rules page). */
export { rulesCatalogue, ruleById } from "./rules/index.ts";
/** Mode → payload requirements, mode parsing, and the classifier of one change. */
export { MODE_POLICIES, parseMode, classify, type ModePolicy, type VerdictOverrides } from "./policies.ts";
/** Semver suggestion from BACKWARD-classified findings, and version arithmetic. */
export { suggestSemver, parseSemver, compareSemver, bumpBetween, bumpSatisfies, type SemverParts } from "./semver.ts";

/** Change evaluation as a value: diagnostics, reports, version findings, lint, suggested semver, upgrade order, blockers. */
export {
  evaluateChange,
  blockersBeyondReview,
  bumpVersion,
  type ChangeEvaluation,
  type ChangePolicy,
  type ProposedChange,
  type StoredVersion,
  type VersionState,
  type VersionFinding,
  type Blocker,
  type BaselineReport,
} from "./evaluate.ts";

/** Lints a contract with named, configurable rules. */
export { lint, LINT_RULES, type LintRule, type LintFinding, type LintOptions } from "./lint/index.ts";

/** Canonical JSON and sha256 content hash of a schema. */
export { schemaHash, canonicalJson } from "./hash.ts";

/** Flows (version × channel × action × message × schemas) and the registry schemas of a contract, as rows. */
export { flowsOf, schemasOf, registrySchemaHash, normaliseSchemaFormat, JSON_SCHEMA_FORMAT, type FlowRecord, type SchemaRecord } from "./flows/index.ts";

/** Report printers: JSON shape of issue 3, text, markdown, GitHub annotations, diagnostics. */
export { toJsonReport, formatText, formatMarkdown, formatGithub, formatDiagnostics, type JsonReport, type Locate } from "./report/index.ts";

/** The impact of a proposed change on other applications: changed channels, affected consumers and producers, unknown clients. */
export {
  impactOf,
  IMPACT_LIMITS,
  type Impact,
  type ImpactInput,
  type ImpactChannel,
  type ImpactFinding,
  type ImpactEvidence,
  type AffectedApplication,
  type UnknownClient,
  type UpgradeFirst,
  type AppRef,
  type ContractCounterpart,
  type ObservedClient,
} from "./impact/index.ts";
/** Whether two channel templates share a topic. */
export { templatesOverlap } from "./topics/index.ts";
