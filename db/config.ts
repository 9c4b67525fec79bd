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
export function databaseTargetFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): DatabaseTarget {
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

/**
 * Where the change feed listens, from `DATABASE_LISTEN_URL`: the server itself when `DATABASE_URL` goes through a
 * transaction-pooling proxy, which keeps no session for a LISTEN. Unset: the feed listens where the pool connects.
 */
export function databaseListenUrlFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const url = env.DATABASE_LISTEN_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error("DATABASE_LISTEN_URL must be a postgres:// or postgresql:// URL");
  if (!env.DATABASE_URL?.trim()) throw new Error("DATABASE_LISTEN_URL needs DATABASE_URL: the embedded database has no server to listen to");
  return url;
}
