import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { openDatabase, setDatabaseHandle, type DatabaseHandle } from "../client.ts";
import { createScratchDatabase } from "./postgres-server.ts";

/** The database backends integration tests run against. */
export type Backend = "pglite" | "postgres";

/** A fresh, migrated database of the given backend. */
export async function freshDatabase(backend: Backend): Promise<DatabaseHandle & { dispose(): Promise<void> }> {
  if (backend === "pglite") {
    const handle = await openDatabase({ driver: "pglite", dataDir: null });
    await handle.migrate();
    return { ...handle, dispose: () => handle.close() };
  }
  const serverUrl = inject("postgresServerUrl");
  const scratch = await createScratchDatabase(serverUrl, `meshport_test_${randomBytes(6).toString("hex")}`);
  const handle = await openDatabase({ driver: "postgres", url: scratch.url });
  await handle.migrate();
  return {
    ...handle,
    async dispose() {
      await handle.close();
      await scratch.drop();
    },
  };
}

/**
 * Declares the suite once per backend, each on its own fresh database installed as the
 * process database, so services under test use it.
 */
export function describeEachBackend(name: string, body: (ctx: { backend: Backend; handle: () => DatabaseHandle }) => void): void {
  const backends: Backend[] = inject("postgresServerUrl") ? ["pglite", "postgres"] : ["pglite"];
  for (const backend of backends) {
    describe(`${name} [${backend}]`, () => {
      let current: (DatabaseHandle & { dispose(): Promise<void> }) | undefined;
      beforeAll(async () => {
        current = await freshDatabase(backend);
        setDatabaseHandle(current);
        const { resetAuth } = await import("@/lib/auth/better-auth.ts");
        resetAuth();
      });
      afterAll(async () => {
        setDatabaseHandle(undefined);
        await current?.dispose();
      });
      body({
        backend,
        handle: () => {
          if (!current) throw new Error("database not ready");
          return current;
        },
      });
    });
  }
}
