import { describe, expect, it } from "vitest";
import { diffWithFindings } from "@/lib/contracts/diff.ts";
import type { Finding } from "@/registry/index.ts";

const finding = (over: Partial<Finding>): Finding => ({ rule: "CHANNEL_REMOVED", message: "m", category: "channel", verdict: "breaking", breaks: "consumers", ...over }) as Finding;

describe("diffWithFindings (the request page's diff against its baseline)", () => {
  const before = "asyncapi: 3.0.0\ninfo:\n  title: T\n  version: 1.0.0\nchannels:\n  a:\n    address: a\n  b:\n    address: b\n";
  const after = "asyncapi: 3.0.0\ninfo:\n  title: T\n  version: 2.0.0\nchannels:\n  a:\n    address: a\n";

  it("lays a finding on the proposal's line, else on the baseline's", () => {
    const removed = finding({ previousPath: "/channels/b" });
    const changed = finding({ rule: "INFO_VERSION_CHANGED" as Finding["rule"], currentPath: "/info/version", previousPath: "/info/version" });
    const { lines, unplaced } = diffWithFindings(before, after, [removed, changed]);
    const removedLine = lines.find((l) => l.kind === "removed" && l.text === "  b:");
    expect(removedLine?.findings).toEqual([removed]);
    const versionLine = lines.find((l) => l.kind === "added" && l.text.includes("2.0.0"));
    expect(versionLine?.findings).toEqual([changed]);
    expect(unplaced).toEqual([]);
  });

  it("lists above the diff a finding no document holds (a baseline no longer stored)", () => {
    const removed = finding({ previousPath: "/channels/b" });
    expect(diffWithFindings("", after, [removed]).unplaced).toEqual([removed]);
  });

  it("shows a first version whole, every line added", () => {
    const { lines } = diffWithFindings("", after, []);
    expect(lines.every((l) => l.kind === "added")).toBe(true);
    expect(lines.map((l) => l.text)).toEqual(after.replace(/\n$/, "").split("\n"));
  });
});
