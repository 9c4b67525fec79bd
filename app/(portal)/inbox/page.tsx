import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { positiveInteger, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { listNotifications } from "@/lib/notifications/inbox.ts";
import { MarkAllReadForm, MarkReadForm } from "./forms.tsx";

export const metadata: Metadata = { title: "Inbox" };

const PAGE_SIZE = 25;

/** A stored link opens only inside the portal. */
function portalPath(link: string): string {
  return link.startsWith("/") && !link.startsWith("//") ? link : "/inbox";
}

export default async function InboxPage({ searchParams }: { searchParams: Promise<{ unread?: SearchParamValue; before?: SearchParamValue }> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const unreadOnly = queryText(query.unread) === "true";
  const before = positiveInteger(query.before);
  const page = await listNotifications(principal, { unread: unreadOnly, limit: PAGE_SIZE, ...(before ? { before } : {}) });
  const filter = unreadOnly ? "?unread=true" : "";
  return (
    <>
      <div className="page-head">
        <h1>Inbox</h1>
        {page.unread > 0 ? <MarkAllReadForm /> : null}
      </div>
      <p className="tabs">
        <Link href="/inbox" aria-current={unreadOnly ? undefined : "page"}>
          All
        </Link>{" "}
        <Link href="/inbox?unread=true" aria-current={unreadOnly ? "page" : undefined}>
          Unread ({page.unread})
        </Link>
      </p>
      <section className="panel" data-testid="inbox">
        {page.items.length === 0 ? (
          <EmptyState title={unreadOnly ? "Nothing unread" : "Nothing here yet"}>
            <p>Review requests, decisions on your changes, and deprecations of versions you consume appear here.</p>
          </EmptyState>
        ) : (
          <table className="table">
            <tbody>
              {page.items.map((n) => (
                <tr key={n.id} data-testid={`notification-${n.id}`} data-read={n.readAt ? "true" : "false"}>
                  <td>{n.readAt ? null : <span className="badge">new</span>}</td>
                  <td>
                    <Link href={portalPath(n.link)}>{n.readAt ? n.title : <strong>{n.title}</strong>}</Link>
                    {n.body ? <div className="muted small">{n.body}</div> : null}
                  </td>
                  <td className="muted small">{n.kind}</td>
                  <td>
                    <Time value={n.createdAt} />
                  </td>
                  <td>{n.readAt ? null : <MarkReadForm id={n.id} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {page.nextBefore ? (
        <p className="pager">
          {before ? <Link href={`/inbox${filter}`}>← Newest</Link> : null}
          <Link href={`/inbox?${unreadOnly ? "unread=true&" : ""}before=${page.nextBefore}`}>Older →</Link>
        </p>
      ) : before ? (
        <p className="pager">
          <Link href={`/inbox${filter}`}>← Newest</Link>
        </p>
      ) : null}
    </>
  );
}
