import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CORE_SCHEMA, load } from "js-yaml";
import { compare, lint, parseContract, type Contract, type ParseResult } from "@/registry/index.ts";
import { DEMO_APPLICATIONS, latestReleased, readDemoContract } from "./index.ts";

const folder = path.join(process.cwd(), "demo", "contracts");
const parsed = new Map<string, ParseResult>();

function contractOf(file: string): Contract {
  const contract = parsed.get(file)?.contract;
  if (!contract) throw new Error(`${file} did not parse`);
  return contract;
}

const major = (version: string) => Number(version.split(".")[0]);

beforeAll(async () => {
  // Full validation (Spectral) takes about a second per document on this machine.
  for (const app of DEMO_APPLICATIONS) {
    for (const v of app.versions) parsed.set(v.file, await parseContract({ [v.file]: readDemoContract(v.file) }));
  }
}, 120_000);

describe("demo contracts", () => {
  it("lists every file of the folder exactly once, and every listed file exists", () => {
    const listed = DEMO_APPLICATIONS.flatMap((a) => [...a.versions, ...(a.proposals ?? [])].map((v) => v.file));
    expect(new Set(listed).size).toBe(listed.length);
    for (const file of listed) expect(existsSync(path.join(folder, file)), file).toBe(true);
    const onDisk = readdirSync(folder).filter((f) => f.endsWith(".yaml"));
    expect(onDisk.sort()).toEqual([...listed].sort());
  });

  it("names each file after its application and version", () => {
    for (const app of DEMO_APPLICATIONS) {
      for (const v of [...app.versions, ...(app.proposals ?? [])]) expect(v.file).toBe(`${app.slug}@${v.version}.yaml`);
    }
  });

  it("proposes changes that parse cleanly and break under BACKWARD, so the review has consumers to ask", async () => {
    for (const app of DEMO_APPLICATIONS) {
      for (const p of app.proposals ?? []) {
        const result = await parseContract({ [p.file]: readDemoContract(p.file) });
        expect(result.diagnostics.filter((d) => d.severity === "error" || d.severity === "warning"), p.file).toEqual([]);
        const latest = app.versions.at(-1)!;
        expect(compare(contractOf(latest.file), result.contract!, { mode: "BACKWARD" }).compatible, p.file).toBe(false);
      }
    }
  });

  it("parses every version without errors or warnings, with the manifest's owner and version", () => {
    for (const app of DEMO_APPLICATIONS) {
      for (const v of app.versions) {
        const result = parsed.get(v.file)!;
        const problems = result.diagnostics.filter((d) => d.severity === "error" || d.severity === "warning");
        expect(problems, v.file).toEqual([]);
        expect(result.validation).toBe("full");
        const contract = contractOf(v.file);
        expect(contract.owners, v.file).toEqual([app.team]);
        expect(contract.version, v.file).toBe(v.version);
        expect(Object.keys(contract.servers).sort(), v.file).toContain("plant-eu");

      }
    }
  });

  it("passes the engine's lint without warnings", () => {
    for (const app of DEMO_APPLICATIONS) {
      for (const v of app.versions) {
        const findings = lint(contractOf(v.file)).filter((f) => f.severity === "error" || f.severity === "warning");
        expect(findings, v.file).toEqual([]);
      }
    }
  });

  it("shows both AsyncAPI 2.6 and 3.0", () => {
    const versions = new Set([...parsed.keys()].map((f) => contractOf(f).asyncapi));
    expect(versions).toEqual(new Set(["2.6.0", "3.0.0"]));
  });

  it("bumps the major version exactly when a step breaks under BACKWARD", () => {
    for (const app of DEMO_APPLICATIONS) {
      for (let i = 1; i < app.versions.length; i++) {
        const previous = app.versions[i - 1]!;
        const current = app.versions[i]!;
        const report = compare(contractOf(previous.file), contractOf(current.file), { mode: "BACKWARD" });
        const step = `${app.slug} ${previous.version} → ${current.version}`;
        expect(major(current.version) > major(previous.version), step).toBe(!report.compatible);
        expect(report.semver, step).toBe(report.compatible ? "minor" : "major");
      }
    }
  });

  it("has the breaking steps the demo tells about", () => {
    const step = (slug: string, from: string, to: string) =>
      compare(contractOf(`${slug}@${from}.yaml`), contractOf(`${slug}@${to}.yaml`), { mode: "BACKWARD" });
    const lineSensors = step("line-sensors", "1.1.0", "2.0.0");
    expect(lineSensors.compatible).toBe(false);
    expect(lineSensors.findings.filter((f) => f.verdict === "breaking").map((f) => f.breaks)).toContain("consumers");
    expect(step("line-sensors", "1.0.0", "1.1.0").compatible).toBe(true);
    expect(step("energy-meter", "1.0.0", "2.0.0").compatible).toBe(false);
    expect(step("mes-orders", "1.0.0", "1.1.0").compatible).toBe(true);
    expect(step("mes-orders", "1.1.0", "1.2.0").compatible).toBe(true);
  });

  it("has a released producer for every channel a released version receives", () => {
    const latest = DEMO_APPLICATIONS.map((a) => contractOf(latestReleased(a).file));
    const sent = new Set(latest.flatMap((c) => Object.values(c.operations).filter((o) => o.action === "send").map((o) => o.channel)));
    for (const contract of latest) {
      for (const op of Object.values(contract.operations)) {
        if (op.action === "receive") expect(sent, `${contract.title} receives ${op.channel}`).toContain(op.channel);
      }
    }
  });
});

describe("demo micro-integrations", () => {
  const infoOf = (file: string) => (load(readDemoContract(file), { schema: CORE_SCHEMA }) as { info: Record<string, unknown> }).info;
  const integrations = DEMO_APPLICATIONS.filter((a) => infoOf(latestReleased(a).file)["x-meshport-kind"] !== undefined);

  it("are sources and targets of named systems, each connected as its kind says", () => {
    expect(integrations.map((a) => [a.slug, infoOf(latestReleased(a).file)["x-meshport-kind"]])).toEqual([
      ["erp-order-source", "source-integration"],
      ["scm-asn-source", "source-integration"],
      ["crm-order-sync", "target-integration"],
      ["analytics-ingest", "target-integration"],
      ["document-archive", "target-integration"],
    ]);
    const systems = new Map<string, string>();
    for (const app of integrations) {
      const info = infoOf(latestReleased(app).file);
      const listed = info["x-meshport-systems"] as Array<{ name: string; type: string; role: string; description: string }>;
      expect(listed.length, app.slug).toBeGreaterThan(0);
      for (const system of listed) {
        expect(["erp", "crm", "scm", "database", "file-store", "saas", "analytics", "other"], app.slug).toContain(system.type);
        expect(system.role, app.slug).toBe(info["x-meshport-kind"] === "source-integration" ? "source" : "target");
        expect(system.description.length, app.slug).toBeGreaterThan(10);
        // One system, one type, whichever contract names it.
        expect(systems.get(system.name) ?? system.type, system.name).toBe(system.type);
        systems.set(system.name, system.type);
      }
    }
    expect([...systems.values()].sort()).toEqual(["analytics", "crm", "erp", "file-store", "scm"]);
  });

  it("declare both brokers of the mesh, and the older applications' channels stay theirs alone", () => {
    const older = new Set(DEMO_APPLICATIONS.filter((a) => !integrations.includes(a)).flatMap((a) => Object.values(contractOf(latestReleased(a).file).channels).map((c) => c.address)));
    for (const app of integrations) {
      const contract = contractOf(latestReleased(app).file);
      expect(Object.keys(contract.servers).sort(), app.slug).toEqual(["cloud-core", "plant-eu"]);
      // Reviews of the shop-floor applications ask the same teams as before the mesh.
      for (const channel of Object.values(contract.channels)) expect(older.has(channel.address), `${app.slug} ${channel.address}`).toBe(false);
    }
  });
});

describe("readDemoContract", () => {
  it("refuses names that are not demo contract files", () => {
    expect(() => readDemoContract("../../package.json")).toThrow(/not a demo contract/);
  });
});
