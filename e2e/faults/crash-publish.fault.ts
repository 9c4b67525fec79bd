/**
 * The portal is SIGKILLed in the middle of publishes and restarted: each version is wholly there
 * (document, flows, schemas, catalog entries, audit entry) or absent, every publish acknowledged
 * before the kill survives, and the audit chain verifies.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { channelCount, largeContract, versionNumber } from "./contracts.ts";
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
  type Query,
} from "./harness.ts";
import { seededRandom } from "./random.ts";

const APP = "crash-orders";
const ROUNDS = 5;

afterAll(async () => {
  await stopAllPortals();
  await stopPostgresServer();
});

describeEachBackend("a publish interrupted by SIGKILL", (kind) => {
  let backend: Backend | null;
  let portal: Portal;
  let adminToken: string;

  beforeAll(async () => {
    backend = await freshBackend(kind);
    if (!backend) return;
    ({ adminToken } = bootstrapAccounts(backend));
    portal = await createPortal(backend);
    await portal.start();
    await createApplication(portal.url, adminToken, APP);
  });

  afterAll(async () => {
    await portal?.stop();
    if (backend) removeBackend(backend);
  });

  it("leaves every version whole or absent, and keeps every acknowledged one", async ({ skip }) => {
    if (!backend) return skip("PostgreSQL is not installed");
    logsOnFailure();
    const random = seededRandom(kind === "pglite" ? 9_001 : 9_002);
    const acknowledged = new Map<string, string>();
    let next = 1;
    let inFlight = false;
    let killedMidPublish = 0;

    const publishNext = async (): Promise<number> => {
      const n = next;
      const document = largeContract(APP, n);
      inFlight = true;
      const answer = await request(portal.url, `/api/v1/applications/${APP}/versions`, {
        method: "POST",
        token: adminToken,
        body: document,
        headers: { "content-type": "application/yaml" },
      });
      inFlight = false;
      if (answer.status === 201) {
        acknowledged.set(versionNumber(n), document);
        next++;
      }
      return answer.status;
    };

    for (let round = 0; round < ROUNDS; round++) {
      // The first publish after a start warms the parse workers up; it must go through.
      expect(await publishNext()).toBe(201);
      // Then publishes one after the other until the kill, a random moment into one of them (each takes
      // roughly half a second to a second here); the one in flight may or may not have committed.
      const killAfterMs = Math.floor(random() * 1_500);
      let killed = false;
      const publishing = (async () => {
        while (!killed) {
          try {
            const status = await publishNext();
            if (status !== 201 && !killed) throw new Error(`publish of ${versionNumber(next)} answered ${status}`);
          } catch (error) {
            if (killed) return;
            throw error;
          }
        }
      })();
      await new Promise((r) => setTimeout(r, killAfterMs));
      killed = true;
      if (inFlight) killedMidPublish++;
      await portal.kill();
      await publishing;

      await withDatabase(backend, (query) => expectWholeOrAbsent(query, [...acknowledged.keys()]));
      await portal.start();
      await expectServedAfterRestart(portal, adminToken, acknowledged);
      // The version in flight may have committed; continue above whatever is the latest now.
      const latest = await api<{ version: { version: string } }>(portal.url, "GET", `/api/v1/applications/${APP}/versions/latest`, adminToken, undefined, [200, 404]).catch(() => null);
      const latestMinor = Number(latest?.version?.version?.split(".")[1] ?? 0);
      next = Math.max(next, latestMinor + 1);
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(ROUNDS);
    // The point of the test: most kills land while a publish is being received, parsed or committed.
    expect(killedMidPublish).toBeGreaterThan(0);
  });
});

/** Straight from the database, before the portal starts again (its start-up backfill must not hide a half-written version). */
async function expectWholeOrAbsent(query: Query, acknowledged: string[]): Promise<void> {
  const versions = await query<{ id: string; version: string; derived: boolean; flows: number; unschema: number; files: number; audits: number }>(
    `select v.id, v.version, v.flows_derived_at is not null as derived,
            (select count(*)::int from flow f where f.version_id = v.id) as flows,
            (select count(*)::int from flow f where f.version_id = v.id and f.payload_schema_id is null) as unschema,
            (select count(*)::int from jsonb_object_keys(v.files)) as files,
            (select count(*)::int from audit_entry e
              where e.action = 'contract.publish' and e.target_id = a.id and e.details->>'version' = v.version) as audits
       from contract_version v join application a on a.id = v.application_id
      where a.slug = $1
      order by v.major, v.minor, v.patch`,
    [APP],
  );
  for (const v of versions) {
    const n = Number(v.version.split(".")[1]);
    expect(v, `version ${v.version}`).toMatchObject({ derived: true, flows: channelCount(n), unschema: 0, files: 1, audits: 1 });
  }
  const stored = versions.map((v) => v.version);
  for (const version of acknowledged) expect(stored, `acknowledged ${version}`).toContain(version);

  // No audit entry tells of a publish whose version is not there.
  const audited = await query<{ version: string }>(
    `select e.details->>'version' as version from audit_entry e join application a on a.id = e.target_id
      where a.slug = $1 and e.action = 'contract.publish'`,
    [APP],
  );
  expect(audited.map((a) => a.version).sort()).toEqual([...stored].sort());

  // The search index holds the newest version, and only it.
  const indexed = await query<{ version_id: string; entries: number }>(
    `select c.version_id, count(*)::int as entries from catalog_entry c join application a on a.id = c.application_id
      where a.slug = $1 group by c.version_id`,
    [APP],
  );
  if (versions.length === 0) {
    expect(indexed).toEqual([]);
  } else {
    expect(indexed.map((i) => i.version_id)).toEqual([versions.at(-1)!.id]);
    expect(indexed[0]!.entries).toBeGreaterThan(channelCount(Number(versions.at(-1)!.version.split(".")[1])));
  }
}

/** Through the API once the portal is back: the documents as sent, and an intact audit chain. */
async function expectServedAfterRestart(portal: Portal, token: string, acknowledged: Map<string, string>): Promise<void> {
  for (const [version, document] of acknowledged) {
    const answer = await request(portal.url, `/api/v1/applications/${APP}/versions/${version}/document?format=original`, { token });
    expect(answer.status, `document of ${version}`).toBe(200);
    expect(answer.text, `document of ${version}`).toBe(document);
  }
  const verify = await api<{ ok: boolean; brokenAt: unknown }>(portal.url, "GET", "/api/v1/audit/verify", token);
  expect(verify).toMatchObject({ ok: true, brokenAt: null });
}
