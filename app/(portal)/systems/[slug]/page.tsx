import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { channelHref, messageHref } from "@/app/_components/catalog.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { can } from "@/lib/auth/permissions.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { KIND_LABELS, kindOf, SYSTEM_TYPE_LABELS, SYSTEM_TYPES } from "@/lib/systems/declaration.ts";
import { getSystem, type SystemEvent, type SystemIntegration } from "@/lib/systems/systems.ts";
import { DeleteSystemForm, EditSystemForm } from "../forms.tsx";

export async function generateMetadata({ params }: { params: Promise<{ slug: string }> }): Promise<Metadata> {
  return { title: (await params).slug };
}

function Integrations({ list, empty, testId }: { list: SystemIntegration[]; empty: string; testId: string }) {
  if (list.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul data-testid={testId}>
      {list.map((i) => (
        <li key={i.application.slug}>
          <Link href={`/catalog/${i.application.slug}`}>{i.application.name}</Link> <small className="muted">{KIND_LABELS[kindOf(i.application)]} · {i.team.name}</small>
        </li>
      ))}
    </ul>
  );
}

function Events({ events, empty, by, testId }: { events: SystemEvent[]; empty: string; by: string; testId: string }) {
  if (events.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">Message</th>
          <th scope="col">{by}</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={`${e.application.slug} ${e.channel} ${e.messageKey}`}>
            <td>
              <Link href={channelHref(e.application.slug, e.channel)}>
                <code>{e.channel}</code>
              </Link>
            </td>
            <td>
              <Link href={messageHref(e.application.slug, e.channel, e.messageKey)}>{e.messageKey}</Link>
            </td>
            <td>
              <Link href={`/catalog/${e.application.slug}`}>{e.application.name}</Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default async function SystemPage({ params }: { params: Promise<{ slug: string }> }) {
  const principal = await requireUser();
  const { slug } = await params;
  const found = await getSystem(principal, slug).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const { system, integrations, events } = found;
  const writer = can(principal, "contracts:write");
  const teams = writer ? await listTeams(principal) : [];
  const types = SYSTEM_TYPES.map((t) => ({ value: t, label: SYSTEM_TYPE_LABELS[t] }));
  const teamOptions = [{ value: "", label: "no team (admins)" }, ...teams.map((t) => ({ value: t.slug, label: t.name }))];
  return (
    <>
      <p className="muted small">
        <Link href="/systems">Systems</Link> /
      </p>
      <div className="page-head">
        <h1 data-testid="system-name">{system.name}</h1>
        <Link className="chip" href={`/systems?type=${system.type}`}>
          {SYSTEM_TYPE_LABELS[system.type]}
        </Link>
      </div>
      <section className="panel">
        <p>{system.description || <span className="muted">No description.</span>}</p>
        <dl className="facts">
          <dt>Owner</dt>
          <dd data-testid="system-owner">{system.team ? <Link href={`/catalog?team=${system.team.slug}`}>{system.team.name}</Link> : <span className="muted">nobody yet</span>}</dd>
          <dt>Applications</dt>
          <dd>
            <Link href={`/catalog?system=${system.slug}`}>the catalog&apos;s applications connecting it</Link>
          </dd>
        </dl>
      </section>
      <section className="panel">
        <h2>Integrations</h2>
        <h3>Reading from it (source)</h3>
        <Integrations list={integrations.source} empty="No source integration reads from it." testId="source-integrations" />
        <h3>Delivering into it (target)</h3>
        <Integrations list={integrations.target} empty="No target integration delivers into it." testId="target-integrations" />
      </section>
      <section className="panel">
        <h2>Events out of it</h2>
        <p className="muted small">What its source integrations publish, in their current versions.</p>
        <Events events={events.out} empty="No events flow out of it." by="Published by" testId="events-out" />
        <h2>Events into it</h2>
        <p className="muted small">What its target integrations consume, in their current versions.</p>
        <Events events={events.in} empty="No events flow into it." by="Consumed by" testId="events-in" />
        {events.truncated ? <p className="muted small">Only the first events are listed.</p> : null}
      </section>
      {writer ? (
        <section className="panel">
          <details>
            <summary>Edit or delete (the owning team, or admins)</summary>
            <EditSystemForm slug={system.slug} system={{ name: system.name, type: system.type, team: system.team?.slug ?? "", description: system.description }} types={types} teams={teamOptions} />
            <DeleteSystemForm slug={system.slug} />
          </details>
        </section>
      ) : null}
    </>
  );
}
