import type { Command } from "commander";
import { closeDb, getDatabaseHandle } from "@/db/client.ts";
import { databaseTargetFromEnv } from "@/db/config.ts";

/** Registers `db migrate`. */
export function registerDbCommands(program: Command): void {
  const db = program.command("db").description("database maintenance");
  db.command("migrate")
    .description("apply pending migrations to the database (DATABASE_URL, else PGlite in MESHPORT_DATA_DIR)")
    .action(async () => {
      const target = databaseTargetFromEnv();
      try {
        await getDatabaseHandle();
        process.stdout.write(
          `migrations applied (${target.driver === "postgres" ? "PostgreSQL" : `PGlite in ${target.dataDir ?? "memory"}`})\n`,
        );
      } finally {
        await closeDb();
      }
    });
}
