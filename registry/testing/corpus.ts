import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Root of the checkout. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Folder of the conformance corpus: `$MESHPORT_CORPUS`, else `../shared/corpus` beside the checkout. */
export const CORPUS_DIR = process.env.MESHPORT_CORPUS ?? path.resolve(REPO_ROOT, "../shared/corpus");

/**
 * Whether the corpus is there. Absent: the suites that need it are skipped loudly, except in CI (`CI=true`)
 * where an absent corpus fails the run (the corpus README's contract).
 */
export function corpusAvailable(): boolean {
  const present = existsSync(path.join(CORPUS_DIR, "asyncapi", "SOURCES.tsv"));
  if (!present) {
    const missing = `Conformance corpus not found at ${CORPUS_DIR} (set MESHPORT_CORPUS)`;
    if (process.env.CI === "true") throw new Error(`${missing}: in CI the corpus is required.`);
    console.warn(`\n*** ${missing}: corpus suites are SKIPPED. ***\n`);
  }
  return present;
}

/** One row of `asyncapi/SOURCES.tsv`. */
export interface CorpusDocument {
  file: string;
  /** Path of the file in its source repository. */
  path: string;
  repo: string;
  version: string;
  kind: string;
  selfContained: string;
  notes: string;
}

/** Lists the AsyncAPI corpus documents with their SOURCES.tsv metadata. */
export function corpusDocuments(): CorpusDocument[] {
  const [header, ...rows] = readFileSync(path.join(CORPUS_DIR, "asyncapi", "SOURCES.tsv"), "utf8").trim().split("\n");
  const cols = header!.split("\t");
  const at = (row: string[], name: string) => row[cols.indexOf(name)] ?? "";
  return rows.map((line) => {
    const row = line.split("\t");
    return { file: at(row, "local_file"), path: at(row, "path"), repo: at(row, "source_repo"), version: at(row, "asyncapi_version"), kind: at(row, "kind"), selfContained: at(row, "self_contained"), notes: at(row, "notes") };
  });
}

/** Reads a corpus file as text. */
export function corpusText(...parts: string[]): string {
  return readFileSync(path.join(CORPUS_DIR, ...parts), "utf8");
}

/** Lists a corpus folder. */
export function corpusList(...parts: string[]): string[] {
  return readdirSync(path.join(CORPUS_DIR, ...parts));
}
