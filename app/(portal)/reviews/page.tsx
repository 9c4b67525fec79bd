import type { Metadata } from "next";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { listApplications } from "@/lib/catalog/applications.ts";
import { positiveInteger, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { listChangeRequests } from "@/lib/reviews/queries.ts";
import { STATE_FILTERS, type ReviewsFilters, type ReviewsView } from "./format.ts";
import { ReviewsContent, VIEWS } from "./list-view.tsx";

export const metadata: Metadata = { title: "Reviews" };

const PAGE_SIZE = 25;
/** Applications the filter offers; a catalog past it still filters by the slug in the link. */
const MAX_APP_OPTIONS = 200;

type Query = Record<"view" | "state" | "app" | "team" | "breaking" | "before", SearchParamValue>;

export default async function ReviewsPage({ searchParams }: { searchParams: Promise<Query> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const view: ReviewsView = VIEWS.find((v) => v.value === queryText(query.view))?.value ?? "waiting";
  const state = queryText(query.state);
  const breaking = queryText(query.breaking);
  const filters: ReviewsFilters = {
    state: STATE_FILTERS.some((s) => s.value && s.value === state) ? state : undefined,
    app: queryText(query.app, 100),
    team: queryText(query.team, 100),
    breaking: breaking === "true" || breaking === "false" ? breaking : undefined,
  };
  const before = positiveInteger(query.before, 2_147_483_647);
  const [{ requests, nextBefore }, teams, { applications }] = await Promise.all([
    listChangeRequests(principal, { view, ...filters, limit: PAGE_SIZE, ...(before ? { before } : {}) }),
    listTeams(principal),
    listApplications(principal, { limit: MAX_APP_OPTIONS, offset: 0 }),
  ]);
  return <ReviewsContent view={view} filters={filters} before={before} requests={requests} nextBefore={nextBefore} applications={applications} teams={teams} />;
}
