import { describe, expect, it } from "vitest";
import { databaseListenUrlFromEnv, databaseTargetFromEnv } from "./config.ts";

describe("database settings", () => {
  it("uses PostgreSQL when DATABASE_URL is set, and refuses anything else than a postgres URL", () => {
    expect(databaseTargetFromEnv({ DATABASE_URL: " postgres://db/meshport " })).toEqual({ driver: "postgres", url: "postgres://db/meshport" });
    expect(() => databaseTargetFromEnv({ DATABASE_URL: "mysql://db/meshport" })).toThrow(/DATABASE_URL must be/);
    expect(databaseTargetFromEnv({ MESHPORT_DATABASE: "memory" })).toEqual({ driver: "pglite", dataDir: null });
  });

  it("listens where the pool connects unless DATABASE_LISTEN_URL names the server behind a pooling proxy", () => {
    expect(databaseListenUrlFromEnv({ DATABASE_URL: "postgres://pooler/meshport" })).toBeUndefined();
    expect(databaseListenUrlFromEnv({ DATABASE_URL: "postgres://pooler/meshport", DATABASE_LISTEN_URL: "  " })).toBeUndefined();
    expect(databaseListenUrlFromEnv({ DATABASE_URL: "postgres://pooler/meshport", DATABASE_LISTEN_URL: "postgresql://db:5432/meshport" })).toBe("postgresql://db:5432/meshport");
    expect(() => databaseListenUrlFromEnv({ DATABASE_URL: "postgres://pooler/meshport", DATABASE_LISTEN_URL: "http://db" })).toThrow(/DATABASE_LISTEN_URL must be/);
    expect(() => databaseListenUrlFromEnv({ DATABASE_LISTEN_URL: "postgres://db/meshport" })).toThrow(/needs DATABASE_URL/);
  });
});
