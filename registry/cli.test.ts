/** End-to-end checks of the `meshport` contract commands (spawned through bin/meshport.mjs, as users run them). */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./testing/corpus.ts";

const fixture = (rule: string, side: string) => path.join(REPO_ROOT, "registry", "testdata", rule, `${side}.yaml`);

function meshport(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, "bin", "meshport.mjs"), ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("meshport CLI", () => {
  it("runs diff and schema-diff with the documented exit codes and JSON shapes", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "meshport-cli-"));
    const broken = path.join(dir, "broken.yaml");
    writeFileSync(broken, "asyncapi: 3.0.0\ninfo:\n  title: x\nchannels: {}\n");
    const a = path.join(dir, "a.json");
    const b = path.join(dir, "b.json");
    writeFileSync(a, JSON.stringify({ type: "string", maxLength: 10 }));
    writeFileSync(b, JSON.stringify({ type: "string", maxLength: 12 }));
    // Two at a time: each run starts the whole CLI and the parser, and the machine has two cores.
    const [diff, invalid] = await Promise.all([
      meshport("diff", fixture("CHANNEL_REMOVED", "previous"), fixture("CHANNEL_REMOVED", "current"), "--format", "json"),
      meshport("diff", broken, fixture("CHANNEL_REMOVED", "current"), "--format", "json"),
    ]);
    // `validate` shares readers and printers with `diff`; one more process is not worth its seconds here.
    const schemaBackward = await meshport("schema-diff", a, b, "--format", "json");

    expect(diff.code).toBe(1);
    const report = JSON.parse(diff.stdout);
    expect(report).toMatchObject({ compatible: false, mode: "BACKWARD", semver: "major" });
    expect(report.changes).toContainEqual(expect.objectContaining({ rule: "CHANNEL_REMOVED", category: "channel", verdict: "breaking", breaks: "consumers", path: "/channels/alerts" }));

    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe("");
    expect(invalid.stderr).toMatch(/broken\.yaml:\d+:\d+ error/);

    expect(schemaBackward.code).toBe(0);
    expect(JSON.parse(schemaBackward.stdout)).toMatchObject({ compatible: true, mode: "BACKWARD", changes: ["MAX_LENGTH_INCREASED #/maxLength"], forwardChanges: ["MAX_LENGTH_DECREASED #/maxLength"] });
  }, 60_000);

  it("judges a payload relaxed to {} with schema-diff in every mode, as a reader/writer check", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "meshport-cli-"));
    const strict = path.join(dir, "strict.json");
    const anything = path.join(dir, "anything.json");
    writeFileSync(strict, JSON.stringify({ type: "object", properties: { id: { type: "string" } }, required: ["id"], additionalProperties: false }));
    writeFileSync(anything, "{}");
    const modes = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];
    // Two at a time: each run starts the whole CLI, and the machine has two cores.
    const results: { code: number; stdout: string }[] = [];
    for (let i = 0; i < modes.length; i += 2) results.push(...(await Promise.all(modes.slice(i, i + 2).map((mode) => meshport("schema-diff", strict, anything, "--mode", mode, "--format", "json")))));
    results.forEach((result, i) => {
      const mode = modes[i]!;
      // An old reader of the strict schema cannot read what a writer of {} may send: every mode that checks FORWARD refuses.
      const compatible = !mode.startsWith("FORWARD") && !mode.startsWith("FULL");
      expect(result.code, mode).toBe(compatible ? 0 : 1);
      const body = JSON.parse(result.stdout);
      expect(body, mode).toMatchObject({ compatible, mode, changes: [], forwardChanges: ["TYPE_CHANGED #/"] });
      expect(body.details, mode).toEqual([{ type: "TYPE_CHANGED", path: "#/", backward: true, forward: false, foundBy: "forward" }]);
    });
  }, 120_000);
});
