// Minimal typing of js-yaml 4 (installed with @asyncapi/parser); only what the loader uses.
declare module "js-yaml" {
  export interface LoadOptions {
    filename?: string;
    schema?: unknown;
    json?: boolean;
    maxDepth?: number;
  }
  export const CORE_SCHEMA: unknown;
  export function load(text: string, options?: LoadOptions): unknown;
  export class YAMLException extends Error {
    reason: string;
    mark?: { line: number; column: number };
  }
}
