import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  checkPushOptions,
  exportQuery,
  formatPush,
  formatVerify,
  physicalPath,
  portalUrl,
  pushBody,
  pushOutcome,
  resolveConnection,
  uploadNames,
  UsageError,
  type PushFiles,
} from "./portal.ts";

const BASE = new URL("https://portal.example.com/meshport/");

const report = {
  compatible: false,
  mode: "BACKWARD",
  semver: "major",
  upgradeOrder: "consumers-first",
  findings: [
    { rule: "PAYLOAD_TYPE_CHANGED", category: "payload", verdict: "breaking", breaks: "consumers", message: "total: number → string", currentPath: "/channels/created/messages/orderCreated/payload/properties/total" },
    { rule: "CHANNEL_ADDED", category: "channel", verdict: "non-breaking", breaks: "none", message: "Channel refunds added", currentPath: "/channels/refunds" },
    { rule: "CHANNEL_REMOVED", category: "channel", verdict: "breaking", breaks: "consumers", message: "Channel alerts removed", previousPath: "/channels/alerts" },
  ],
};

const TEXT = `asyncapi: 3.0.0
info:
  title: Orders
  version: 2.0.0
channels:
  created:
    address: shop/orders/created
    messages:
      orderCreated:
        $ref: '#/components/messages/orderCreated'
  refunds:
    address: shop/refunds
components:
  messages:
    orderCreated:
      payload:
        type: object
        properties:
          total:
            type: string
`;

const files: PushFiles = { files: { "orders.yaml": TEXT }, display: new Map([["orders.yaml", "contracts/orders.yaml"]]), root: "orders.yaml" };

describe("connection", () => {
  it("takes the flags before the environment, and keeps a base path", () => {
    const c = resolveConnection({ portal: "https://portal.example.com/meshport", token: "mpt_a" }, { MESHPORT_PORTAL: "http://other", MESHPORT_TOKEN: "mpt_b" });
    expect(c.base.href).toBe("https://portal.example.com/meshport/");
    expect(c.token).toBe("mpt_a");
    expect(portalUrl(c, "api/v1/audit/verify").href).toBe("https://portal.example.com/meshport/api/v1/audit/verify");
    expect(resolveConnection({}, { MESHPORT_PORTAL: "http://localhost:3000", MESHPORT_TOKEN: "mpt_b" }).token).toBe("mpt_b");
  });

  it("refuses what cannot be a portal or a token", () => {
    for (const [options, message] of [
      [{ token: "t" }, /--portal URL or MESHPORT_PORTAL/],
      [{ portal: "http://x" }, /--token T or MESHPORT_TOKEN/],
      [{ portal: "ftp://x", token: "t" }, /http or https/],
      [{ portal: "not a url", token: "t" }, /not a URL/],
      [{ portal: "https://u:p@x", token: "t" }, /credentials/],
      [{ portal: "https://x", token: "a b" }, /not a Meshport API token/],
      [{ portal: "https://x", token: "t", timeout: "0" }, /--timeout/],
    ] as const) {
      expect(() => resolveConnection(options, {}), String(message)).toThrow(message);
    }
  });
});

describe("push options", () => {
  it("checks the application, the format and the review-only flags", () => {
    expect(checkPushOptions(["a.yaml"], { app: "Orders", format: "github" })).toEqual({ app: "orders", format: "github" });
    expect(() => checkPushOptions(["a.yaml"], {})).toThrow(UsageError);
    expect(() => checkPushOptions(["a.yaml"], { app: "../admin" })).toThrow(/not an application slug/);
    expect(() => checkPushOptions(["a.yaml"], { app: "orders", format: "xml" })).toThrow(/unknown format/);
    expect(() => checkPushOptions(["a.yaml"], { app: "orders", title: "x" })).toThrow(/go with --review/);
    expect(() => checkPushOptions(Array.from({ length: 51 }, (_, i) => `${i}.yaml`), { app: "orders" })).toThrow(/at most 50/);
  });

  it("names uploads relative to their common folder, the first file the root", () => {
    expect(uploadNames(["/w/c/orders.yaml"])).toEqual(["orders.yaml"]);
    expect(uploadNames(["/w/c/orders.yaml", "/w/c/schemas/order.json"])).toEqual(["orders.yaml", "schemas/order.json"]);
    const two: PushFiles = { files: { "orders.yaml": "a", "schemas/order.json": "b" }, display: new Map(), root: "orders.yaml" };
    expect(pushBody(two, { version: "2.0.0" })).toEqual({ files: two.files, version: "2.0.0", root: "orders.yaml" });
    expect(pushBody(files, { review: true, title: "T", description: "D" })).toEqual({ files: files.files, title: "T", description: "D" });
    expect(pushBody(files, { title: "ignored without review" })).toEqual({ files: files.files });
  });
});

describe("push outcomes and exit codes", () => {
  it("reads 201, 200, a change request, 409s and 422", () => {
    expect(pushOutcome(201, { version: { version: "1.0.0" }, report: null }, "orders", false, BASE)).toMatchObject({ kind: "published", exitCode: 0 });
    expect(pushOutcome(200, { version: { version: "1.0.0" } }, "orders", false, BASE)).toMatchObject({ kind: "unchanged", exitCode: 0 });
    const submitted = pushOutcome(201, { changeRequest: { number: 3, state: "open", url: "/reviews/3" }, evaluation: { report } }, "orders", true, BASE);
    expect(submitted).toMatchObject({ kind: "submitted", exitCode: 0, changeRequestUrl: "https://portal.example.com/meshport/reviews/3" });
    expect(submitted.report?.findings).toHaveLength(3);
    expect(pushOutcome(409, { error: { code: "conflict:review_required", message: "m", details: { report } } }, "orders", false, BASE)).toMatchObject({ kind: "review_required", exitCode: 1 });
    expect(pushOutcome(409, { error: { code: "conflict:incompatible", message: "m", details: { report } } }, "orders", false, BASE)).toMatchObject({ kind: "refused", exitCode: 1 });
    expect(pushOutcome(422, { error: { code: "invalid_input:contract", message: "m", details: { diagnostics: [] } } }, "orders", false, BASE)).toMatchObject({ kind: "invalid", exitCode: 2 });
  });

  it("turns credentials and missing applications into usage errors (exit 2)", () => {
    expect(() => pushOutcome(401, { error: { code: "unauthenticated", message: "No." } }, "orders", false, BASE)).toThrow(/refused the token/);
    expect(() => pushOutcome(403, { error: { code: "forbidden", message: "No." } }, "orders", false, BASE)).toThrow(/may not/);
    expect(() => pushOutcome(404, { error: { code: "not_found:application", message: "No application x." } }, "x", false, BASE)).toThrow(/No application x/);
    expect(() => pushOutcome(500, "oops", "x", false, BASE)).toThrow(/answered 500/);
  });
});

describe("push formats", () => {
  const refused = pushOutcome(
    409,
    {
      error: {
        code: "conflict:review_required",
        message: "This change breaks consumers.",
        details: { report, suggestedVersion: "2.0.0", blockers: [], changeRequestsUrl: "/api/v1/applications/orders/change-requests", changeRequestPage: "/catalog/orders/publish" },
      },
    },
    "orders",
    false,
    BASE,
  );

  it("follows $refs to the line that changed", () => {
    const document = parse(TEXT);
    expect(physicalPath(document, ["channels", "created", "messages", "orderCreated", "payload", "properties", "total"])).toEqual(["components", "messages", "orderCreated", "payload", "properties", "total"]);
    expect(physicalPath(document, ["channels", "alerts"])).toEqual(["channels", "alerts"]);
    // A $ref cycle ends after a bounded number of hops.
    expect(physicalPath({ a: { $ref: "#/a" } }, ["a", "b"])).toEqual(["a", "b"]);
  });

  it("github: errors on the changed lines for breaking findings, warnings for the others, and the verdict", async () => {
    const out = (await formatPush("github", refused, files, BASE)).trimEnd().split("\n");
    const lines = TEXT.split("\n");
    const lineOf = (text: string) => lines.findIndex((l) => l.trimStart().startsWith(text)) + 1;
    expect(out[0]).toMatch(new RegExp(`^::error file=contracts/orders\\.yaml,line=${lineOf("total:")},col=\\d+,title=PAYLOAD_TYPE_CHANGED::total: number → string$`));
    expect(out[1]).toMatch(new RegExp(`^::warning file=contracts/orders\\.yaml,line=${lineOf("refunds:")},col=\\d+,title=CHANNEL_ADDED::`));
    // A removed channel is on the line of its surviving parent.
    expect(out[2]).toMatch(new RegExp(`^::error file=contracts/orders\\.yaml,line=${lineOf("channels:")},col=\\d+,title=CHANNEL_REMOVED::`));
    expect(out.at(-1)).toMatch(/^::error title=meshport push::Review required for orders: This change breaks consumers\. Submit it for review: meshport push contracts\/orders\.yaml --app orders --review or open one on https:\/\/portal\.example\.com\/meshport\/catalog\/orders\/publish .* Suggested version: 2\.0\.0\.$/);
  });

  it("markdown: verdict, findings table, suggested version, affected applications and the change request link", async () => {
    const submitted = pushOutcome(
      201,
      {
        changeRequest: { number: 3, state: "open", url: "/reviews/3" },
        evaluation: { report, suggestedVersion: "2.0.0" },
        impact: { applications: [{ application: { slug: "billing", teamSlug: "finance" }, role: "consumer", breaking: true, findingCount: 2, upgrade: "billing | first", evidence: [{ kind: "contract" }, { kind: "observed" }] }] },
        reviewers: [{ teamId: "t1", reason: "owner", applications: [] }],
      },
      "orders",
      true,
      BASE,
    );
    const out = await formatPush("markdown", submitted, files, BASE);
    expect(out).toContain("## 📝 meshport push: `orders`");
    expect(out).toContain("**Change request:** [#3](https://portal.example.com/meshport/reviews/3)");
    expect(out).toContain("**Suggested version:** `2.0.0`");
    expect(out).toContain("### ❌ Incompatible under `BACKWARD`");
    expect(out).toContain("| breaking | `PAYLOAD_TYPE_CHANGED` | payload | consumers |");
    expect(out).toContain("| `billing` | finance | consumer | **yes** | 2 | billing \\| first | contract, observed |");
    expect(out).toContain("**Reviewers requested:** t1 (owner)");
    const review = await formatPush("markdown", refused, files, BASE);
    expect(review).toMatch(/^## ⚠️ meshport push: `orders`/);
    expect(review).toContain("Submit it for review: meshport push contracts/orders.yaml --app orders --review");
  });

  it("text and json", async () => {
    const text = await formatPush("text", refused, files, BASE);
    expect(text).toMatch(/^Review required for orders: This change breaks consumers\.\nSubmit it for review/);
    expect(text).toContain("Suggested version: 2.0.0.");
    expect(text).toContain("INCOMPATIBLE under BACKWARD");
    const json = JSON.parse(await formatPush("json", refused, files, BASE)) as Record<string, unknown>;
    expect(json).toMatchObject({ outcome: "review_required", exitCode: 1, status: 409, app: "orders", report: { compatible: false, semver: "major" } });
  });

  it("lists diagnostics of an invalid document under the path as given", async () => {
    const invalid = pushOutcome(422, { error: { code: "invalid_input:contract", message: "The contract is not valid.", details: { diagnostics: [{ file: "orders.yaml", line: 3, column: 1, severity: "error", code: "asyncapi-schema", message: "info.version is required", path: ["info"] }] } } }, "orders", false, BASE);
    expect(await formatPush("text", invalid, files, BASE)).toContain("contracts/orders.yaml:3:1 error asyncapi-schema info.version is required (at /info)");
    expect(await formatPush("github", invalid, files, BASE)).toContain("::error file=contracts/orders.yaml,line=3,col=1,title=asyncapi-schema::info.version is required");
  });
});

describe("audit", () => {
  it("builds the export query from the filters", () => {
    expect(exportQuery({ format: "json", from: "2026-12-01", app: "orders", action: ["contract.publish", "change_request."], actor: " " }).toString()).toBe(
      "format=json&from=2026-12-01&application=orders&action=contract.publish&action=change_request.",
    );
    expect(exportQuery({}).toString()).toBe("format=csv");
    expect(() => exportQuery({ format: "xlsx" })).toThrow(/csv or json/);
  });

  it("prints the verdict of a verification", () => {
    expect(formatVerify({ ok: true, entries: 3, brokenAt: null, headHash: "ab" })).toBe("Audit chain intact: 3 entries verified; head ab.\n");
    expect(formatVerify({ ok: false, entries: 4, brokenAt: { seq: 5, reason: "hash_mismatch" }, headHash: "ab" })).toMatch(/^Audit chain BROKEN at entry #5: its content does not match its hash/);
  });
});
