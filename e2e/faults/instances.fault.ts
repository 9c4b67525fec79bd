/**
 * Two portal instances on one PostgreSQL database publish to the same application at once:
 * one version per number, every acknowledged publish stored as sent, the audit chain intact.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { largeContract, versionNumber } from "./contracts.ts";
import {
  api,
  bootstrapAccounts,
  createApplication,
  createPortal,
  describeEachBackend,
  freshBackend,
  logsOnFailure,
  withDatabase,
  removeBackend,
  request,
  stopAllPortals,
  stopPostgresServer,
  type Backend,
  type Portal,
} from "./harness.ts";

const APP = "shared-orders";
/** Writers per instance, and versions each writer lands. */
const WRITERS_PER_INSTANCE = 2;
const VERSIONS_PER_WRITER = 4;

afterAll(async () => {
  await stopAllPortals();
  await stopPostgresServer();
});

// PGlite has one writer per data folder: several instances need a PostgreSQL server.
describeEachBackend("two instances publishing to one application", (kind) => {
  let backend: Backend | null = null;
  let instances: Portal[] = [];
  let adminToken: string;

  beforeAll(async () => {
    if (kind !== "postgres") return;
    backend = await freshBackend(kind);
    if (!backend) return;
    ({ adminToken } = bootstrapAccounts(backend));
    instances = [await createPortal(backend), await createPortal(backend)];
    // Started together: they also take turns on the migration lock.
    await Promise.all(instances.map((p) => p.start()));
    await createApplication(instances[0]!.url, adminToken, APP);
  });

  afterAll(async () => {
    await Promise.all(instances.map((p) => p.stop()));
    if (backend) removeBackend(backend);
  });

  it("gives each number one version and loses no acknowledged publish", async ({ skip }) => {
    if (kind !== "postgres") return skip("several instances need PostgreSQL");
    if (!backend) return skip("PostgreSQL is not installed");
    logsOnFailure();
    const acknowledged = new Map<string, string>();
    const refusals: number[] = [];

    // Each writer offers the number after the latest it knows of; when another writer got there first it is refused and tries the next.
    const writer = async (portal: Portal, author: string) => {
      let landed = 0;
      let attempts = 0;
      while (landed < VERSIONS_PER_WRITER) {
        if (++attempts > 200) throw new Error(`${author} could not land its versions`);
        const latest = await request(portal.url, `/api/v1/applications/${APP}/versions/latest`, { token: adminToken });
        const n = latest.status === 200 ? Number((latest.body as { version: { minor: number } }).version.minor) + 1 : 1;
        const document = largeContract(APP, n, author);
        const answer = await request(portal.url, `/api/v1/applications/${APP}/versions`, {
          method: "POST",
          token: adminToken,
          body: document,
          headers: { "content-type": "application/yaml" },
        });
        if (answer.status === 201) {
          expect(acknowledged.has(versionNumber(n)), `${versionNumber(n)} acknowledged twice`).toBe(false);
          acknowledged.set(versionNumber(n), document);
          landed++;
        } else if (answer.status === 409) {
          refusals.push(n);
        } else {
          throw new Error(`${author} publishing ${versionNumber(n)} through ${portal.url}: ${answer.status} ${answer.text.slice(0, 1000)}`);
        }
      }
    };
    await Promise.all(
      instances.flatMap((portal, i) => Array.from({ length: WRITERS_PER_INSTANCE }, (_, w) => writer(portal, `instance${i}-writer${w}`))),
    );

    const total = instances.length * WRITERS_PER_INSTANCE * VERSIONS_PER_WRITER;
    expect(acknowledged.size).toBe(total);
    const rows = await withDatabase(backend, (query) =>
      query<{ version: string; files: Record<string, string>; audits: number }>(
        `select v.version, v.files,
                (select count(*)::int from audit_entry e
                  where e.action = 'contract.publish' and e.target_id = a.id and e.details->>'version' = v.version) as audits
           from contract_version v join application a on a.id = v.application_id where a.slug = $1`,
        [APP],
      ),
    );
    expect(rows.map((r) => r.version).sort()).toEqual([...acknowledged.keys()].sort());
    for (const row of rows) {
      expect(Object.values(row.files), row.version).toEqual([acknowledged.get(row.version)]);
      expect(row.audits, row.version).toBe(1);
    }
    for (const portal of instances) {
      const listed = await api<{ versions: Array<{ version: string }> }>(portal.url, "GET", `/api/v1/applications/${APP}/versions`, adminToken);
      expect(new Set(listed.versions.map((v) => v.version)).size).toBe(total);
      expect(await api(portal.url, "GET", "/api/v1/audit/verify", adminToken)).toMatchObject({ ok: true, brokenAt: null });
    }
  });
});
