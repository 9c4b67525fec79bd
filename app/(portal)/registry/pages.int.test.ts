/** The Registry pages as their readers see them: the true empty state, the list, a subject, a schema id, not found. */
import { eq } from "drizzle-orm";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, expect, it, vi } from "vitest";
import { application, contractVersion, flow, registrySchema, registrySubject, registrySubjectVersion } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import type { Contract } from "@/registry/types.ts";
import RegistryPage from "./page.tsx";
import SchemaPage from "./schemas/[id]/page.tsx";
import SubjectPage from "./subjects/[subject]/page.tsx";

const session = vi.hoisted(() => ({ principal: null as unknown }));
vi.mock("@/app/_lib/session.ts", () => ({ requireUser: async () => session.principal, requireActor: async () => session.principal }));

const user = (role: "admin" | "viewer"): Principal => ({ kind: "user", id: `u-${role}`, email: `${role}@example.com`, name: role, role });
const testIds = (html: string) => [...html.matchAll(/data-testid="([^"]+)"/g)].map((m) => m[1]!);
const SUBJECT = "bakes/{ovenId}/done-BakeDone";

describeEachBackend("registry pages", ({ handle }) => {
  const db = () => handle().db;
  const ids: Record<string, number> = {};
  const list = async (query: Record<string, string> = {}) => renderToStaticMarkup(await RegistryPage({ searchParams: Promise.resolve(query) }));
  const subject = async (name: string, query: Record<string, string> = {}) =>
    renderToStaticMarkup(await SubjectPage({ params: Promise.resolve({ subject: encodeURIComponent(name) }), searchParams: Promise.resolve(query) }));
  const schema = async (id: string) => renderToStaticMarkup(await SchemaPage({ params: Promise.resolve({ id }) }));

  beforeAll(async () => {
    session.principal = user("viewer");
  });

  it("says there are no subjects yet, and how clients connect, on an empty registry", async () => {
    const html = await list();
    expect(testIds(html)).toEqual(expect.arrayContaining(["registry-empty", "registry-base-url", "registry-global-compatibility"]));
    expect(html).toContain("No subjects yet — publish a contract or register over the API");
    expect(html).toContain("/api/schema-registry");
    expect(html).toContain("BACKWARD");
    expect(testIds(html)).not.toContain("registry-subjects");
  });

  it("lists subjects, opens a subject and a schema id", async () => {
    const actor = systemPrincipal("test");
    await createTeam(actor, { slug: "bakery", name: "Bakery" });
    await createApplication(actor, { slug: "oven", name: "Oven", team: "bakery" });
    const [app] = await db().select({ id: application.id }).from(application).where(eq(application.slug, "oven"));
    await db().insert(contractVersion).values({
      id: "cv-oven",
      applicationId: app!.id,
      version: "1.0.0",
      major: 1,
      minor: 0,
      patch: 0,
      files: {},
      rootFile: "asyncapi.yaml",
      asyncapiVersion: "3.0.0",
      contract: {} as Contract,
      contentHash: "h",
      publishedById: "test",
      publishedByLabel: "test",
    });
    for (const [key, canonical] of [
      ["v1", '{"properties":{"loaf":{"type":"string"}},"type":"object"}'],
      ["v2", '{"properties":{"crust":{"type":"string"},"loaf":{"type":"string"}},"type":"object"}'],
    ] as const) {
      const [row] = await db().insert(registrySchema).values({ hash: `sha256:${key}`, format: "application/schema+json;version=draft-07", canonical }).returning({ id: registrySchema.id });
      ids[key] = row!.id;
    }
    await db().insert(registrySubject).values([
      { id: "s1", name: SUBJECT, governed: true, applicationId: app!.id, channel: "bakes/{ovenId}/done", messageKey: "BakeDone", part: "payload" },
      { id: "s2", name: "loaves-value" },
    ]);
    await db().insert(registrySubjectVersion).values([
      { subjectId: "s1", version: 1, schemaId: ids.v1!, compatibility: "BACKWARD", registeredByLabel: "Ada", contractVersionId: "cv-oven" },
      { subjectId: "s1", version: 2, schemaId: ids.v2!, compatibility: "BACKWARD", registeredByLabel: "Ada" },
      { subjectId: "s2", version: 1, schemaId: ids.v1!, compatibility: "NONE", registeredByLabel: "ci" },
    ]);
    await db().insert(flow).values({ versionId: "cv-oven", channel: "bakes/{ovenId}/done", action: "send", messageKey: "BakeDone", payloadSchemaId: ids.v1! });

    const html = await list();
    expect(testIds(html).filter((t) => t === "registry-subject-row")).toHaveLength(2);
    expect(html).toContain(`href="/registry/subjects/${encodeURIComponent(SUBJECT)}"`);
    expect(html).toContain(`href="/registry/schemas/${ids.v2}"`);
    expect(html).toContain("inherited");
    expect(await list({ kind: "direct" })).not.toContain(encodeURIComponent(SUBJECT));
    const none = await list({ text: "nothing-like-this" });
    expect(testIds(none)).toContain("registry-none");
    expect(testIds(none)).not.toContain("registry-empty");

    const page = await subject(SUBJECT);
    expect(testIds(page)).toEqual(expect.arrayContaining(["subject-title", "subject-versions", "subject-schema", "subject-flows", "subject-compatibility"]));
    expect(testIds(page).filter((t) => t === "subject-version-row")).toHaveLength(2);
    expect(page).toContain("&quot;crust&quot;");
    expect(page).toContain('href="/catalog/oven/versions/1.0.0"');
    // Governed: no link or owner form.
    expect(testIds(page)).not.toContain("subject-manage");
    expect(await subject(SUBJECT, { version: "1" })).not.toContain("&quot;crust&quot;");

    session.principal = user("admin");
    const direct = await subject("loaves-value");
    expect(testIds(direct)).toEqual(expect.arrayContaining(["subject-manage", "subject-link-form", "subject-owner-form"]));
    expect(testIds(direct)).not.toContain("subject-unlink-form");
    session.principal = user("viewer");
    expect(testIds(await subject("loaves-value"))).not.toContain("subject-manage");

    const id = await schema(String(ids.v1));
    expect(testIds(id).filter((t) => t === "schema-subject")).toHaveLength(2);
    expect(id).toContain(`data-subject="loaves-value"`);
    expect(testIds(id)).toContain("schema-flows");
  });

  it("answers not found for unknown subjects, versions and ids", async () => {
    // What notFound() throws: the 404 fallback, not a server error.
    const notFound = { digest: expect.stringContaining("404") };
    await expect(subject("no-such-subject")).rejects.toMatchObject(notFound);
    await expect(subject(SUBJECT, { version: "99" })).rejects.toMatchObject(notFound);
    await expect(schema("999999")).rejects.toMatchObject(notFound);
    await expect(schema("abc")).rejects.toMatchObject(notFound);
    await expect(schema("99999999999")).rejects.toMatchObject(notFound);
  });
});
