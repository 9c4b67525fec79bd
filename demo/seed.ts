import "server-only";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { count, eq, inArray } from "drizzle-orm";
import { dataDir } from "@/db/config.ts";
import { getDb } from "@/db/client.ts";
import { application, broker, brokerBridge, team, user } from "@/db/schema.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBridge, declareBroker } from "@/lib/brokers/brokers.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { registerSchema } from "@/lib/schema-registry/api.ts";
import { openChangeRequest, overrideChangeRequest } from "@/lib/reviews/requests.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { createToken, listTokens, principalForToken } from "@/lib/tokens/tokens.ts";
import { DEMO_APPLICATIONS, readDemoContract } from "./contracts/index.ts";
import { DEMO_BROKERS, declaredDemoBridges } from "./mesh.ts";

/** The demo admin's sign-in. */
export const DEMO_ADMIN_EMAIL = "admin@meshport.demo";

/** Demo teams: a plant-floor IoT mesh with the usual owners. */
const DEMO_TEAMS = [
  { slug: "plant-operations", name: "Plant Operations", description: "Line sensors, machine telemetry and alarms.", contact: "#plant-ops on chat, plant-ops@meshport.demo" },
  { slug: "logistics", name: "Logistics", description: "Orders, shipments and warehouse movements.", contact: "logistics@meshport.demo" },
  { slug: "quality", name: "Quality", description: "Inspections, deviations and batch release.", contact: "quality@meshport.demo" },
  { slug: "platform", name: "Integration Platform", description: "Brokers, bridges and the mesh itself.", contact: "#event-mesh on chat" },
];

const DEMO_PEOPLE = [
  { name: "Rita Reviewer", email: "rita@meshport.demo", role: "reviewer", team: "platform", teamRole: "maintainer" },
  { name: "Eddie Editor", email: "eddie@meshport.demo", role: "editor", team: "plant-operations", teamRole: "maintainer" },
  { name: "Val Viewer", email: "val@meshport.demo", role: "viewer", team: "quality", teamRole: "member" },
] as const;

/** The demo admin's password: `MESHPORT_DEMO_PASSWORD`, else generated once into the data folder. */
export function demoAdminPassword(): string {
  if (process.env.MESHPORT_DEMO_PASSWORD) return process.env.MESHPORT_DEMO_PASSWORD;
  const file = path.join(dataDir(), "demo-admin-password");
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir(), { recursive: true });
  const generated = randomBytes(12).toString("base64url");
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  return generated;
}

/**
 * Seeds demo accounts and teams into an empty portal. Idempotent: a portal that already
 * has accounts is left as it is, so restarting the demo keeps what people did in it.
 */
export async function seedDemo(): Promise<{ seeded: boolean; email: string; password: string }> {
  const password = demoAdminPassword();
  const db = await getDb();
  const [existing] = await db
    .select({ id: user.id, email: user.email, name: user.name })
    .from(user)
    .where(eq(user.email, DEMO_ADMIN_EMAIL));
  if (existing) {
    const actor: Principal = { kind: "user", ...existing, role: "admin" };
    // A demo data folder from before the catalog existed gets the catalog now.
    const [apps] = await db.select({ n: count() }).from(application);
    if ((apps?.n ?? 0) === 0) await seedDemoCatalog(actor);
    // One from before the mesh gets its second broker, the bridge and the integrations, once.
    const [cloud] = await db.select({ id: broker.id }).from(broker).where(eq(broker.id, "cloud-core"));
    if (!cloud) {
      await seedDemoMesh(actor);
      const present = new Set((await db.select({ slug: application.slug }).from(application)).map((a) => a.slug));
      await seedDemoCatalog(actor, { only: new Set(DEMO_APPLICATIONS.map((a) => a.slug).filter((slug) => !present.has(slug))) });
    }
    return { seeded: false, email: DEMO_ADMIN_EMAIL, password };
  }
  const system = systemPrincipal("demo-seed");
  const admin = await createFirstAdmin(system, { name: "Demo Admin", email: DEMO_ADMIN_EMAIL, password }).catch(
    (error: unknown) => {
      // Another account exists already: this portal is not a fresh demo, leave it alone.
      if (error instanceof Error && "kind" in error && error.kind === "conflict") return null;
      throw error;
    },
  );
  if (!admin) return { seeded: false, email: DEMO_ADMIN_EMAIL, password };
  const actor: Principal = { kind: "user", id: admin.id, email: admin.email, name: admin.name, role: "admin" };
  for (const t of DEMO_TEAMS) {
    const [found] = await db.select({ id: team.id }).from(team).where(eq(team.slug, t.slug));
    if (!found) await createTeam(actor, t);
  }
  await setTeamMember(actor, "platform", { email: DEMO_ADMIN_EMAIL, role: "maintainer" });
  for (const person of DEMO_PEOPLE) {
    await createUser(actor, { name: person.name, email: person.email, password, role: person.role });
    await setTeamMember(actor, person.team, { email: person.email, role: person.teamRole });
  }
  await seedDemoMesh(actor);
  await seedDemoCatalog(actor);
  await seedDemoRegistry(actor);
  return { seeded: true, email: DEMO_ADMIN_EMAIL, password };
}

/**
 * The demo mesh's brokers and the bridge between them, declared, so the Brokers page and the
 * topology show the mesh before (and whatever) the agents report. A broker already known keeps
 * what it has; its URL comes from its agent, since a taken port falls back to another.
 */
export async function seedDemoMesh(actor: Principal): Promise<void> {
  const db = await getDb();
  const ids = DEMO_BROKERS.map((b) => b.id);
  const known = new Set((await db.select({ id: broker.id }).from(broker).where(inArray(broker.id, ids))).map((b) => b.id));
  for (const b of DEMO_BROKERS) {
    if (!known.has(b.id)) await declareBroker(actor, { id: b.id, name: b.name, url: "", protocol: "mqtt", description: b.description });
  }
  const declared = await db.select({ from: brokerBridge.fromBrokerId, to: brokerBridge.toBrokerId, filter: brokerBridge.topicFilter }).from(brokerBridge);
  for (const bridge of declaredDemoBridges()) {
    if (declared.some((d) => d.from === bridge.fromBrokerId && d.to === bridge.toBrokerId && d.filter === bridge.topicFilter)) continue;
    await declareBridge(actor, bridge);
  }
}

/**
 * A subject registered straight over the registry API, as a Kafka team with Confluent serializers would: an Avro
 * invoice record and a compatible second version (a field with a default). The contracts' subjects come with
 * their releases.
 */
export async function seedDemoRegistry(actor: Principal): Promise<void> {
  const invoice = (fields: Array<Record<string, unknown>>) =>
    JSON.stringify({ type: "record", name: "Invoice", namespace: "demo.erp", fields });
  const base = [
    { name: "invoiceId", type: "string" },
    { name: "orderId", type: "string" },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 12, scale: 2 } },
    { name: "currency", type: "string" },
  ];
  await registerSchema(actor, "erp.invoices-value", { schemaType: "AVRO", schema: invoice(base) }, {});
  await registerSchema(actor, "erp.invoices-value", { schemaType: "AVRO", schema: invoice([...base, { name: "dueDate", type: ["null", "string"], default: null }]) }, {});
}

/**
 * The token one demo broker's agent reports with, bound to that broker: created once, its
 * secret kept in the data folder (owner-only) so the demo mesh process can read it. Demo mode only.
 */
export async function ensureDemoAgentToken(brokerId: (typeof DEMO_BROKERS)[number]["id"] = "plant-eu"): Promise<string> {
  const demoBroker = DEMO_BROKERS.find((b) => b.id === brokerId);
  if (!demoBroker) throw new Error(`not a demo broker: ${brokerId}`);
  const file = path.join(dataDir(), demoBroker.tokenFile);
  try {
    const existing = readFileSync(file, "utf8").trim();
    const known = existing ? await principalForToken(existing) : null;
    // A token from before broker bindings (or bound to another broker) is refused at ingest: make a bound one instead.
    if (known?.kind === "token" && (await listTokens(systemPrincipal("demo-seed"))).some((t) => t.id === known.id && t.brokerBinding === brokerId)) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const { secret } = await createToken(systemPrincipal("demo-seed"), { name: `demo-agent-${brokerId}`, scopes: ["agent:report"], brokers: brokerId });
  mkdirSync(dataDir(), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The tokens of every demo broker's agent (see {@link ensureDemoAgentToken}). */
export async function ensureDemoAgentTokens(): Promise<void> {
  for (const b of DEMO_BROKERS) await ensureDemoAgentToken(b.id);
}

/**
 * Registers the demo applications (or `only` those slugs) and publishes their versions in order,
 * through the same checks as everyone.
 */
export async function seedDemoCatalog(actor: Principal, options: { only?: ReadonlySet<string> } = {}): Promise<void> {
  const db = await getDb();
  const apps = options.only ? DEMO_APPLICATIONS.filter((a) => options.only!.has(a.slug)) : DEMO_APPLICATIONS;
  for (const app of apps) {
    await createApplication(actor, {
      slug: app.slug,
      name: app.name,
      team: app.team,
      description: app.description,
      domain: app.domain,
      tags: app.tags,
      clientIdPatterns: app.clientIdPatterns,
    });
    for (const version of app.versions) {
      const upload = { files: { [version.file]: readDemoContract(version.file) }, version: version.version };
      await publishVersion(actor, app.slug, upload).catch(async (error: unknown) => {
        // A breaking major goes through a change request: the demo's history is published by the admin's override.
        if (!(error instanceof Error && "code" in error && error.code === "conflict:review_required")) throw error;
        const opened = await openChangeRequest(actor, app.slug, { ...upload, title: `${app.name} ${version.version}` });
        await overrideChangeRequest(actor, String(opened.changeRequest.number), { reason: "Demo history: a version this demo starts from." });
      });
    }
    for (const version of app.versions) {
      if (version.state === "deprecated") {
        await setVersionState(actor, app.slug, version.version, { state: "deprecated", reason: version.reason ?? "Superseded." });
      }
    }
  }
  // Proposals last: the consumers they affect must be in the catalog to be asked.
  for (const app of apps) {
    for (const proposal of app.proposals ?? []) {
      const [author] = await db.select({ id: user.id, email: user.email, name: user.name, role: user.role }).from(user).where(eq(user.email, proposal.author));
      if (!author) continue;
      await openChangeRequest({ kind: "user", ...author }, app.slug, { files: { [proposal.file]: readDemoContract(proposal.file) }, version: proposal.version, title: proposal.title, description: proposal.description });
    }
  }
}
