import type { TestProject } from "vitest/node";
import { findPostgresBinaries, startTemporaryPostgres, type TemporaryPostgres } from "./postgres-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server integration tests create their databases on; "" when none. */
    postgresServerUrl: string;
  }
}

let server: TemporaryPostgres | undefined;

/**
 * Integration tests run on PGlite and on a real PostgreSQL server: the one in
 * DATABASE_URL when given, else a temporary one started here.
 */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env.DATABASE_URL?.trim();
  if (given) {
    project.provide("postgresServerUrl", given);
    return;
  }
  if (!findPostgresBinaries()) {
    const message = "PostgreSQL is not installed: integration tests run on PGlite only (apt-get install postgresql).";
    if (process.env.CI) throw new Error(message);
    console.warn(`\n!!! ${message}\n`);
    project.provide("postgresServerUrl", "");
    return;
  }
  server = await startTemporaryPostgres();
  project.provide("postgresServerUrl", server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
