import type { Command } from "commander";
import { closeDb, getDatabaseHandle } from "@/db/client.ts";
import { databaseTargetFromEnv } from "@/db/config.ts";
import { backfillFlows } from "@/lib/catalog/flows.ts";

/** Registers `db migrate`. */
export function registerDbCommands(program: Command): void {
  const db = program.command("db").description("database maintenance");
  db.command("migrate")
    .description("apply pending migrations to the database (DATABASE_URL, else PGlite in MESHPORT_DATA_DIR)")
    .action(async () => {
      const target = databaseTargetFromEnv();
      try {
        const handle = await getDatabaseHandle();
        // Versions stored by an older build get their flows and schemas, as at portal start-up.
        const derived = await backfillFlows(handle.db);
        process.stdout.write(
          `migrations applied (${target.driver === "postgres" ? "PostgreSQL" : `PGlite in ${target.dataDir ?? "memory"}`})` +
            (derived > 0 ? `; flows derived for ${derived} version(s)` : "") +
            "\n",
        );
      } finally {
        await closeDb();
      }
    });
}
