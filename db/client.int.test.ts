import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { expect, inject, it } from "vitest";
import { openDatabase } from "./client.ts";
import { createScratchDatabase } from "./testing/postgres-server.ts";

it("keeps working when the server ends an idle pooled connection (a restart, an admin): the pool replaces it", async ({ skip }) => {
  const serverUrl = inject("postgresServerUrl");
  if (!serverUrl) return skip("no PostgreSQL server for this run");
  const scratch = await createScratchDatabase(serverUrl, `meshport_test_${randomBytes(6).toString("hex")}`);
  const handle = await openDatabase({ driver: "postgres", url: scratch.url });
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const before = (await handle.db.execute(sql`select pg_backend_pid() as pid`)) as unknown as { rows: Array<{ pid: number }> };
    const pid = before.rows[0]!.pid;
    // The connection is idle in the pool now; ending it makes the pool emit an error, which must not end the process.
    await admin.query("select pg_terminate_backend($1)", [pid]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = (await handle.db.execute(sql`select pg_backend_pid() as pid`)) as unknown as { rows: Array<{ pid: number }> };
    expect(after.rows[0]!.pid).not.toBe(pid);
  } finally {
    await admin.end();
    await handle.close();
    await scratch.drop();
  }
});
