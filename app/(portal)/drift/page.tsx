import type { Metadata } from "next";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { listBrokers } from "@/lib/brokers/brokers.ts";
import { listApplications } from "@/lib/catalog/applications.ts";
import { driftSummary, driftTrends, listFindings, MAX_FINDINGS_OFFSET } from "@/lib/drift/queries.ts";
import { pageNumber, type SearchParamValue } from "@/lib/http/page-query.ts";
import { DriftDashboard } from "./dashboard-view.tsx";
import { readDriftFilters } from "./format.ts";

export const metadata: Metadata = { title: "Drift" };

const PAGE_SIZE = 50;
const MAX_PAGE = Math.floor(MAX_FINDINGS_OFFSET / PAGE_SIZE) + 1;
/** Applications the filter offers; a catalog past it still filters by the slug in the link. */
const MAX_APP_OPTIONS = 200;
/** Days of the trend chart. */
const TREND_DAYS = 30;

export default async function DriftPage({ searchParams }: { searchParams: Promise<Record<string, SearchParamValue>> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const filters = readDriftFilters(query);
  const page = pageNumber(query.page, MAX_PAGE);
  const [list, summary, trends, teams, brokers, { applications }] = await Promise.all([
    listFindings(principal, { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }),
    driftSummary(principal, filters),
    driftTrends(principal, { days: TREND_DAYS }),
    listTeams(principal),
    listBrokers(principal),
    listApplications(principal, { limit: MAX_APP_OPTIONS, offset: 0 }),
  ]);
  return (
    <DriftDashboard
      filters={filters}
      page={page}
      pageSize={PAGE_SIZE}
      maxPage={MAX_PAGE}
      list={list}
      summary={summary}
      trend={trends.days}
      teams={teams.map((t) => ({ slug: t.slug, name: t.name }))}
      brokers={brokers.map((b) => ({ id: b.id, name: b.name }))}
      applications={applications.map((a) => ({ slug: a.slug, name: a.name }))}
    />
  );
}
