import path from "node:path";

/** Where the embedded database and generated secrets live (`MESHPORT_DATA_DIR`, default `.data/`). */
export function dataDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.env.MESHPORT_DATA_DIR || ".data");
}

/** The committed migrations folder; the portal runs from the repository root. */
export function migrationsDir(): string {
  const fromEnv = process.env.MESHPORT_MIGRATIONS_DIR;
  return fromEnv ? path.resolve(/*turbopackIgnore: true*/ fromEnv) : path.join(process.cwd(), "db", "migrations");
}

/** Which database to use: a PostgreSQL server when `DATABASE_URL` is set, else PGlite in the data folder. */
export type DatabaseTarget =
  | { driver: "postgres"; url: string }
  | { driver: "pglite"; dataDir: string | null /* null: in memory */ };

/** Reads the database target from the environment. */
export function databaseTargetFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new Error("DATABASE_URL must be a postgres:// or postgresql:// URL");
    }
    return { driver: "postgres", url };
  }
  if (env.MESHPORT_DATABASE === "memory") return { driver: "pglite", dataDir: null };
  return { driver: "pglite", dataDir: path.join(dataDir(), "pglite") };
}
