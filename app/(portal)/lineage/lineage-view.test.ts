/** The lineage report as it renders from a lineage: every section, the exports, and the links to the catalog and brokers. */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { sampleLineage } from "@/lib/lineage/fixtures.ts";
import { LineageContent } from "./lineage-view.tsx";

const testIds = (html: string) => [...html.matchAll(/data-testid="([^"]+)"/g)].map((m) => m[1]!);
const render = (lineage = sampleLineage) => renderToStaticMarkup(createElement(LineageContent, { lineage, asked: { channel: lineage.channel } }));

describe("lineage page", () => {
  it("renders every section in the event's order, with the exports", () => {
    const ids = testIds(render()).filter((id) => !id.startsWith("lineage-producer-") && !id.startsWith("lineage-consumer-") && !id.startsWith("lineage-broker-") && !id.startsWith("lineage-version-") && !id.startsWith("lineage-unknown-"));
    expect(ids).toEqual([
      "lineage-export-json",
      "lineage-export-csv",
      "lineage-export-versions-csv",
      "lineage-drift-link",
      "lineage-producers",
      "lineage-brokers",
      "lineage-bridges",
      "lineage-consumers",
      "lineage-versions",
      "lineage-changes",
    ]);
  });

  it("links the exports with the same question, and the applications, versions and brokers to their pages", () => {
    const html = render();
    expect(html).toContain('href="/api/v1/lineage?channel=plant%2F%7BlineId%7D%2Ftemperature&amp;format=csv"');
    expect(html).toContain('href="/api/v1/lineage/versions.csv?channel=plant%2F%7BlineId%7D%2Ftemperature"');
    expect(html).toContain('href="/catalog/line-sensors/channel/plant%2F%7BlineId%7D%2Ftemperature"');
    expect(html).toContain('href="/catalog/line-sensors/versions/2.0.0"');
    expect(html).toContain('href="/brokers/edge"');
    expect(html).toContain('href="/reviews/7"');
    expect(html).toContain('href="/drift?channel=plant%2F%7BlineId%7D%2Ftemperature"');
    expect(html).toContain('href="/drift?broker=core"');
    expect(testIds(html)).toContain("lineage-unknown-consumer");
  });

  it("hides who changed what from those who do not read the audit log", () => {
    const html = render({ ...sampleLineage, changes: { visible: false, entries: [], truncated: false } });
    expect(html).toContain("Reviewers and admins see here who published");
  });
});
