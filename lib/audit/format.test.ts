import { describe, expect, it } from "vitest";
import type { AuditEntry } from "@/db/schema.ts";
import { auditExportFileName, csvField, csvLine, describeDetails, entryAddress, formatAuditExport, auditRow } from "./format.ts";

const entry = (seq: number, details: Record<string, unknown> = {}): AuditEntry => ({
  seq,
  at: new Date("2026-12-01T14:05:00.123Z"),
  actorKind: "user",
  actorId: "u1",
  actorLabel: "ada@example.com",
  action: "application.update",
  targetType: "application",
  targetId: "a1",
  details,
  prevHash: "0".repeat(64),
  hash: "f".repeat(64),
});

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const chunk of chunks) text += chunk;
  return text;
}

async function* pagesOf(...pages: AuditEntry[][]) {
  for (const page of pages) yield page;
}

describe("CSV fields", () => {
  it("quotes per RFC 4180 only when needed, doubling quotes", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi", then\r\nleave')).toBe('"say ""hi"", then\r\nleave"');
    expect(csvField(null)).toBe("");
    expect(csvField(42)).toBe("42");
  });

  it("neutralises cells a spreadsheet would run as formulas", () => {
    for (const text of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(csvField(text).replace(/^"/, "")).toMatch(/^'/);
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField("a=b")).toBe("a=b");
  });

  it("writes one CRLF record per entry in the column order", () => {
    const line = csvLine(auditRow(entry(7, { application: "orders", from: "203.0.113.9" })));
    expect(line).toBe(
      `7,2026-12-01T14:05:00.123Z,user,u1,ada@example.com,203.0.113.9,application.update,application,a1,orders,"{""application"":""orders"",""from"":""203.0.113.9""}",${"f".repeat(64)},${"0".repeat(64)}\r\n`,
    );
  });
});

describe("export streams", () => {
  it("writes CSV: the header, then each page", async () => {
    const text = await collect(formatAuditExport("csv", pagesOf([entry(3), entry(2)], [entry(1)])));
    const lines = text.split("\r\n");
    expect(lines[0]).toBe("seq,at,actor_kind,actor_id,actor_label,from,action,target_type,target_id,application,details,hash,prev_hash");
    expect(lines.slice(1, 4).map((l) => l.split(",")[0])).toEqual(["3", "2", "1"]);
    expect(lines[4]).toBe("");
  });

  it("writes JSON as one array, an entry a line, also when empty", async () => {
    const text = await collect(formatAuditExport("json", pagesOf([entry(2)], [], [entry(1)])));
    expect(text.split("\n")).toHaveLength(5);
    expect((JSON.parse(text) as { seq: number }[]).map((r) => r.seq)).toEqual([2, 1]);
    expect(await collect(formatAuditExport("json", pagesOf()))).toBe("[]\n");
  });

  it("names files by format and time", () => {
    expect(auditExportFileName("csv", new Date("2026-12-01T14:05:09.500Z"))).toBe("meshport-audit-20261201T140509Z.csv");
  });
});

describe("details for reading", () => {
  it("takes the client address only when it is one", () => {
    expect(entryAddress({ from: "2001:db8::1" })).toBe("2001:db8::1");
    expect(entryAddress({ from: "released" })).toBeNull();
  });

  it("shows before/after objects field by field and { from, to } fields as changes", () => {
    expect(
      describeDetails({
        application: "orders",
        from: "198.51.100.1",
        before: { name: "A", owner: "x" },
        after: { name: "B", owner: "x", tier: 1 },
        role: { from: "viewer", to: "editor" },
        reason: "why",
      }),
    ).toEqual({
      changes: [
        { field: "name", before: "A", after: "B" },
        { field: "tier", before: null, after: 1 },
        { field: "role", before: "viewer", after: "editor" },
      ],
      facts: [{ key: "reason", value: "why" }],
    });
    expect(describeDetails({ from: "draft", to: "released" }).facts.map((f) => f.key)).toEqual(["from", "to"]);
  });
});
