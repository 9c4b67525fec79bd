import { describe, expect, it } from "vitest";
import type { ChangeEvaluation, Finding } from "@/registry/index.ts";
import type { AffectedApplication } from "@/registry/impact/index.ts";
import { emptyListText, evidenceText, findingKey, findingOptions, findingRefOf, parseFindingKey, reviewerReasonText, reviewsHref, sameFinding, upgradeFirstText } from "./format.ts";

const finding = (over: Partial<Finding>): Finding =>
  ({ rule: "PAYLOAD_FIELD_REMOVED", message: "Field temp was removed.", category: "payload", verdict: "breaking", breaks: "consumers", ...over }) as Finding;

const evaluation = (findings: Finding[]): Pick<ChangeEvaluation, "baseline" | "against" | "report"> => ({
  baseline: "1.2.0",
  against: [
    { version: "1.2.0", report: { compatible: false, mode: "BACKWARD_TRANSITIVE", semver: "major", findings, upgradeOrder: "consumers-first" } },
    { version: "1.1.0", report: { compatible: true, mode: "BACKWARD_TRANSITIVE", semver: "none", findings: [], upgradeOrder: "any" } },
  ],
  report: { compatible: false, mode: "BACKWARD_TRANSITIVE", semver: "major", findings, upgradeOrder: "consumers-first" },
});

describe("finding references", () => {
  it("names a finding by rule, its path in the proposal (else the baseline) and the version it was found against", () => {
    const e = evaluation([]);
    expect(findingRefOf(finding({ currentPath: "/channels/a", previousPath: "/channels/b" }), e)).toEqual({ rule: "PAYLOAD_FIELD_REMOVED", path: "/channels/a", baseline: "1.2.0" });
    expect(findingRefOf(finding({ previousPath: "/channels/b" }), e).path).toBe("/channels/b");
    // A transitive finding's index points past the baseline into the earlier versions.
    expect(findingRefOf(finding({ previousPath: "/x", baseline: 0 }), e).baseline).toBe("1.1.0");
    expect(findingRefOf(finding({}), e).path).toBeNull();
  });

  it("reads back the key it wrote, and nothing malformed", () => {
    const ref = { rule: "CHANNEL_REMOVED", path: "/channels/plant~1{id}", baseline: "2.0.0" };
    expect(parseFindingKey(findingKey(ref))).toEqual(ref);
    expect(parseFindingKey(findingKey({ rule: "R", path: null }))).toEqual({ rule: "R", path: null, baseline: null });
    for (const bad of [undefined, "", "{", "[1,2,3]", '["",null,null]', '["R",5,null]', '["R",null]', '{"rule":"R"}', `["R","${"x".repeat(3000)}",null]`]) {
      expect(parseFindingKey(bad)).toBeNull();
    }
  });

  it("compares references with a missing baseline as null", () => {
    expect(sameFinding({ rule: "R", path: "/a" }, { rule: "R", path: "/a", baseline: null })).toBe(true);
    expect(sameFinding({ rule: "R", path: "/a", baseline: "1.0.0" }, { rule: "R", path: "/a" })).toBe(false);
    expect(sameFinding(null, { rule: "R", path: null })).toBe(false);
  });

  it("offers the whole request first, then each finding once", () => {
    const f = finding({ currentPath: "/channels/a" });
    const options = findingOptions(evaluation([f, { ...f }, finding({ rule: "CHANNEL_REMOVED", previousPath: "/channels/b" } as Partial<Finding>)]));
    expect(options.map((o) => o.label)).toEqual(["(whole request)", "PAYLOAD_FIELD_REMOVED at /channels/a", "CHANNEL_REMOVED at /channels/b"]);
    expect(options[0]!.value).toBe("");
    expect(parseFindingKey(options[1]!.value)).toEqual({ rule: "PAYLOAD_FIELD_REMOVED", path: "/channels/a", baseline: "1.2.0" });
    expect(findingOptions({ baseline: null, against: [], report: null })).toHaveLength(1);
    // A finding against an earlier version (transitive modes) says which.
    const transitive = findingOptions(evaluation([finding({ previousPath: "/channels/c", baseline: 0 })]));
    expect(transitive[1]!.label).toBe("PAYLOAD_FIELD_REMOVED at /channels/c (against 1.1.0)");
  });
});

describe("impact wording", () => {
  const app = { application: { id: "a", slug: "monitor", name: "Monitor", teamId: "t", teamSlug: "ops", teamName: "Ops" }, upgradeFirst: "counterpart", upgrade: null } as Pick<AffectedApplication, "application" | "upgradeFirst" | "upgrade">;

  it("says whether the evidence is declared or observed, and where", () => {
    expect(evidenceText({ kind: "contract", version: "1.0.0", channel: "plant/{id}/temp", messageKey: "m", meets: "plant/{id}/temp" })).toEqual({ kind: "declared", text: "contract 1.0.0, channel plant/{id}/temp" });
    expect(evidenceText({ kind: "observed", brokerId: "plant-eu", clientId: "monitor-1", template: "plant/{id}/temp", filter: "plant/+/temp", lastSeen: "2026-01-01T00:00:00Z", meets: "x" })).toEqual({
      kind: "observed",
      text: "broker plant-eu, client id monitor-1, topic plant/+/temp",
    });
  });

  it("names the side that upgrades first, preferring the impact's own sentence", () => {
    expect(upgradeFirstText(app, "Sensors")).toBe("Monitor upgrades first");
    expect(upgradeFirstText({ ...app, upgradeFirst: "owner" }, "Sensors")).toBe("Sensors upgrades first");
    expect(upgradeFirstText({ ...app, upgrade: "Upgrade Monitor before Sensors." }, "Sensors")).toBe("Upgrade Monitor before Sensors.");
    expect(upgradeFirstText({ ...app, upgradeFirst: null }, "Sensors")).toBeNull();
  });

  it("says why a team reviews", () => {
    expect(reviewerReasonText("owner", [])).toBe("owning team");
    expect(reviewerReasonText("consumer", ["monitor", "dash"])).toBe("consumer team of monitor, dash");
  });
});

describe("the list", () => {
  it("says which view and which filters found nothing", () => {
    expect(emptyListText("waiting", {}, false).title).toBe("Nothing waits for your review");
    expect(emptyListText("mine", {}, false).title).toBe("You have not opened any change request");
    expect(emptyListText("all", {}, false).title).toBe("No change requests yet");
    const filtered = emptyListText("all", { state: "changes_requested", app: "sensors", breaking: "true" }, false);
    expect(filtered.title).toBe("No change request matches these filters");
    expect(filtered.body).toBe("No change request with state changes requested, application sensors, breaking changes only.");
    expect(emptyListText("mine", { state: "active" }, true).title).toBe("No older change requests");
  });

  it("links a view with its filters, dropping empty ones", () => {
    expect(reviewsHref({})).toBe("/reviews");
    expect(reviewsHref({ view: "all", state: "", app: "a b", before: 12 })).toBe("/reviews?view=all&app=a+b&before=12");
  });
});
