import { describe, expect, it } from "vitest";
import { approvalRuleFrom, reviewerTeams, reviewStatus, type Decision } from "./approval.ts";

const rule = { owner: 1, consumer: 1 };
const decision = (kind: Decision["kind"], actor: string, teamIds: string[], order: number, revision = 1): Decision => ({ kind, actorId: actor, actorLabel: `${actor}@x`, revision, teamIds, order });

describe("reviewer teams", () => {
  it("asks the owner, and each team a breaking change hits, once", () => {
    const teams = reviewerTeams("owner", rule, [
      { teamId: "b", slug: "b-app", role: "consumer", breaking: true },
      { teamId: "a", slug: "a-app", role: "producer", breaking: true },
      { teamId: "b", slug: "b-other", role: "consumer", breaking: true },
      { teamId: "c", slug: "c-app", role: "consumer", breaking: false },
      { teamId: "owner", slug: "own-consumer", role: "consumer", breaking: true },
    ]);
    expect(teams).toEqual([
      { teamId: "owner", reason: "owner", requiredApprovals: 1, applications: ["own-consumer"] },
      { teamId: "a", reason: "producer", requiredApprovals: 1, applications: ["a-app"] },
      { teamId: "b", reason: "consumer", requiredApprovals: 1, applications: ["b-app", "b-other"] },
    ]);
  });

  it("takes the larger requirement when the owner also consumes", () => {
    expect(reviewerTeams("o", { owner: 1, consumer: 2 }, [{ teamId: "o", slug: "x", role: "consumer", breaking: true }])[0]!.requiredApprovals).toBe(2);
  });
});

describe("review status", () => {
  const teams = reviewerTeams("owner", { owner: 2, consumer: 1 }, [{ teamId: "cons", slug: "c", role: "consumer", breaking: true }]);

  it("counts each person's latest decision on the current revision only", () => {
    const decisions = [
      decision("approved", "ann", ["owner"], 1),
      decision("changes_requested", "carl", ["cons"], 2),
      decision("approved", "bob", ["owner"], 3, 0),
    ];
    const status = reviewStatus(teams, decisions, 1);
    expect(status.teams.map((t) => t.state)).toEqual(["pending", "changes_requested"]);
    expect(status).toMatchObject({ satisfied: false, changesRequested: true });
    const later = reviewStatus(teams, [...decisions, decision("approved", "carl", ["cons"], 4), decision("approved", "bob", ["owner"], 5)], 1);
    expect(later.teams.map((t) => [t.state, t.approvedBy])).toEqual([
      ["approved", ["ann@x", "bob@x"]],
      ["approved", ["carl@x"]],
    ]);
    expect(later.satisfied).toBe(true);
    // A new revision starts over.
    expect(reviewStatus(teams, [...decisions, decision("approved", "carl", ["cons"], 4)], 2).satisfied).toBe(false);
  });

  it("is satisfied at once when nobody's approval is required", () => {
    const none = reviewerTeams("owner", { owner: 0, consumer: 0 }, []);
    expect(reviewStatus(none, [], 1)).toMatchObject({ satisfied: true, teams: [{ state: "not_required" }] });
  });

  it("reads a stored rule with defaults for what is missing or out of range", () => {
    expect(approvalRuleFrom(null)).toEqual({ owner: 1, consumer: 1 });
    expect(approvalRuleFrom({ owner: 3, consumer: 99 })).toEqual({ owner: 3, consumer: 1 });
    expect(approvalRuleFrom({ owner: -1, consumer: 0 })).toEqual({ owner: 1, consumer: 0 });
  });
});
