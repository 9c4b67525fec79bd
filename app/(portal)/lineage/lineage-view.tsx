import Link from "next/link";
import { channelHref, StateBadge } from "@/app/_components/catalog.tsx";
import { formatCount, formatRate } from "@/app/_components/format.ts";
import { Time } from "@/app/_components/time.tsx";
import type { ChannelLineage, LineageMark, LineageParticipant, LineageUnknownClient } from "@/lib/lineage/lineage.ts";
import { lineageHref } from "@/lib/lineage/params.ts";
import { PrintButton, PrintedAt } from "../audit/printed-at.tsx";
import styles from "./lineage.module.css";

/*
 * The lineage report as it renders from its data: the print header, the exports, and one section per part of the
 * event's path. The page (./page.tsx) loads it and handles the form and refusals.
 */

const brokerHref = (id: string) => `/brokers/${encodeURIComponent(id)}`;
/** The drift dashboard filtered to a channel (a contract address: the dashboard takes up to 500 characters) or a broker. */
const driftHref = (filter: { channel?: string; broker?: string }) =>
  lineageHref("/drift", { broker: filter.broker, channel: filter.channel && filter.channel.length <= 500 ? filter.channel : undefined });
const versionHref = (app: string, version: string) => `/catalog/${app}/versions/${encodeURIComponent(version)}`;

const MARK_CLASS: Record<LineageMark, string> = { both: styles.markBoth!, declared: styles.markDeclared!, observed: styles.markObserved! };

function Mark({ mark }: { mark: LineageMark }) {
  return <span className={`badge ${styles.mark} ${MARK_CLASS[mark]}`}>{mark}</span>;
}

/** One side of the event: the applications, what they declare and which of their clients were seen, and the unknown clients. */
function Side({ role, list, unknown, testId }: { role: "producer" | "consumer"; list: LineageParticipant[]; unknown: LineageUnknownClient[]; testId: string }) {
  const title = role === "producer" ? "Producers" : "Consumers";
  return (
    <section className="panel" data-testid={testId}>
      <h2>{title}</h2>
      {list.length === 0 && unknown.length === 0 ? (
        <p className="muted">{role === "producer" ? "No application declares sending here, and no producer was seen." : "No application declares receiving here, and no consumer was seen."}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Application</th>
              <th>Team</th>
              <th>Seen as</th>
              <th>Declared</th>
              <th>Observed clients</th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.application.id} data-testid={`lineage-${role}-${p.application.slug}`}>
                <td>
                  <Link href={`/catalog/${p.application.slug}`}>{p.application.name}</Link>
                </td>
                <td>{p.application.team.name}</td>
                <td>
                  <Mark mark={p.mark} />
                </td>
                <td>
                  {p.declared.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    <ul className={styles.clients}>
                      {p.declared.map((d) => (
                        <li key={`${d.version} ${d.channel}`}>
                          <Link href={channelHref(p.application.slug, d.channel)}>
                            <code>{d.channel}</code>
                          </Link>{" "}
                          <Link href={versionHref(p.application.slug, d.version)} className="muted">
                            v{d.version}
                          </Link>{" "}
                          <span className="muted">{d.messages.join(", ")}</span>
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  {p.observed.length === 0 ? (
                    <span className="muted">none seen</span>
                  ) : (
                    <ul className={styles.clients}>
                      {p.observed.map((o) => (
                        <li key={`${o.brokerId} ${o.template} ${o.clientId} ${o.filter ?? ""}`}>
                          <code>{o.clientId}</code> on <Link href={brokerHref(o.brokerId)}>{o.brokerId}</Link>
                          {o.filter ? (
                            <>
                              {" "}
                              filter <code>{o.filter}</code>
                            </>
                          ) : null}
                          {o.messages !== null ? <span className="muted"> · {formatCount(o.messages)} messages</span> : null}
                          {o.lastSeen ? (
                            <span className="muted">
                              {" "}
                              · <Time value={o.lastSeen} />
                            </span>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            ))}
            {unknown.map((u) => (
              <tr key={`unknown ${u.brokerId} ${u.template} ${u.clientId} ${u.filter ?? ""}`} data-testid={`lineage-unknown-${role}`}>
                <td>
                  <code>{u.clientId}</code>
                </td>
                <td className="muted">unknown client</td>
                <td>
                  <Mark mark="observed" />
                </td>
                <td className="muted">—</td>
                <td>
                  on <Link href={brokerHref(u.brokerId)}>{u.brokerId}</Link> <code className="muted">{u.template}</code>
                  {u.filter ? (
                    <>
                      {" "}
                      filter <code>{u.filter}</code>
                    </>
                  ) : null}
                  {u.lastSeen ? (
                    <span className="muted">
                      {" "}
                      · <Time value={u.lastSeen} />
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Brokers({ lineage }: { lineage: ChannelLineage }) {
  return (
    <section className="panel" data-testid="lineage-brokers">
      <h2>Brokers</h2>
      {lineage.brokers.length === 0 ? (
        <p className="muted">{lineage.at ? "No agent saw it in the window before that date." : "No agent has seen it on any broker."}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Broker</th>
              <th>How it gets there</th>
              <th>Topic templates</th>
              <th>Messages</th>
              <th>Rate</th>
              <th>First seen</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {lineage.brokers.map((b) => (
              <tr key={b.brokerId} data-testid={`lineage-broker-${b.brokerId}`}>
                <td>
                  <Link href={brokerHref(b.brokerId)}>{b.name}</Link> <code className="muted small">{b.brokerId}</code>{" "}
                  <Link href={driftHref({ broker: b.brokerId })} className={`small ${styles.noPrint}`}>
                    drift
                  </Link>
                </td>
                <td>{b.observed ? "observed" : `over a bridge (${b.hop} ${b.hop === 1 ? "hop" : "hops"}), not observed`}</td>
                <td className={styles.wrap}>
                  {b.topics.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    <ul className={styles.clients}>
                      {b.topics.map((t) => (
                        <li key={t.template}>
                          <code>{t.template}</code>
                          {t.topics.length > 0 ? <span className="muted"> ({t.topics.join(", ")})</span> : null}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{formatCount(b.messages)}</td>
                <td className={styles.nowrap}>{formatRate(b.ratePerSecond)}</td>
                <td className={styles.nowrap}>
                  <Time value={b.firstSeen} />
                </td>
                <td className={styles.nowrap}>
                  <Time value={b.lastSeen} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Bridges({ lineage }: { lineage: ChannelLineage }) {
  return (
    <section className="panel" data-testid="lineage-bridges">
      <h2>Bridges</h2>
      {lineage.bridges.length === 0 ? (
        <p className="muted">No declared bridge carries it from the brokers it was seen on.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Hop</th>
              <th>From</th>
              <th>To</th>
              <th>Filter</th>
              <th>Direction</th>
            </tr>
          </thead>
          <tbody>
            {lineage.bridges.map((b) => (
              <tr key={`${b.id} ${b.reverse}`}>
                <td>{b.hop}</td>
                <td>
                  <Link href={brokerHref(b.fromBrokerId)}>{b.fromBrokerId}</Link>
                </td>
                <td>
                  <Link href={brokerHref(b.toBrokerId)}>{b.toBrokerId}</Link>
                </td>
                <td>
                  <code>{b.topicFilter}</code>
                </td>
                <td>{b.direction === "both" ? (b.reverse ? "both ways (back)" : "both ways") : "out"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Versions({ lineage }: { lineage: ChannelLineage }) {
  return (
    <section className="panel" data-testid="lineage-versions">
      <h2>Schema history</h2>
      {lineage.versions.length === 0 ? (
        <p className="muted">No producer&apos;s contract declares this channel in any version.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Application</th>
              <th>Version</th>
              <th>State</th>
              <th>Published</th>
              <th>By</th>
              <th>Change request</th>
              <th>Payload schemas</th>
              <th>Schema</th>
            </tr>
          </thead>
          <tbody>
            {lineage.versions.map((v) => (
              <tr key={`${v.application.slug} ${v.version}`} data-testid={`lineage-version-${v.application.slug}-${v.version}`}>
                <td>
                  <Link href={`/catalog/${v.application.slug}`}>{v.application.name}</Link>
                </td>
                <td>
                  <Link href={versionHref(v.application.slug, v.version)}>{v.version}</Link>
                </td>
                <td>
                  <StateBadge state={v.state} />
                </td>
                <td className={styles.nowrap}>
                  <Time value={v.publishedAt} />
                </td>
                <td>{v.publishedByLabel}</td>
                <td>{v.changeRequest ? v.changeRequest.number !== null ? <Link href={`/reviews/${v.changeRequest.number}`}>#{v.changeRequest.number}</Link> : <code>{v.changeRequest.id}</code> : <span className="muted">—</span>}</td>
                <td>
                  {v.schemas.length === 0 ? (
                    <span className="muted">not on this channel</span>
                  ) : (
                    <ul className={styles.clients}>
                      {v.schemas.map((s) => (
                        <li key={`${s.channel} ${s.messageKey}`}>
                          {s.messageKey} <code className="small">{s.payloadSchemaId !== null ? `schema #${s.payloadSchemaId}` : "no schema"}</code>
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className={v.schemaChanged ? styles.changed : undefined} data-testid="lineage-version-change">
                  {v.change === "added" ? "channel added" : v.change === "removed" ? "channel removed" : v.change === "changed" ? "changed" : "unchanged"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Changes({ lineage }: { lineage: ChannelLineage }) {
  const apps = [...new Set(lineage.versions.map((v) => v.application.slug))];
  return (
    <section className="panel" data-testid="lineage-changes">
      <h2>Who changed what</h2>
      {!lineage.changes.visible ? (
        <p className="muted">Reviewers and admins see here who published and reviewed these contracts (the audit log).</p>
      ) : lineage.changes.entries.length === 0 ? (
        <p className="muted">No contract or change request of these applications is in the audit log{lineage.at ? " by that date" : ""}.</p>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Application</th>
                <th>Version</th>
              </tr>
            </thead>
            <tbody>
              {lineage.changes.entries.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td className={styles.nowrap}>
                    <Time value={e.at} />
                  </td>
                  <td>{e.actor.label}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.application ?? <span className="muted">—</span>}</td>
                  <td>{e.version ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className={`small ${styles.noPrint}`}>
            {lineage.changes.truncated ? "The newest entries only. " : null}
            {apps.map((slug) => (
              <Link key={slug} href={`/audit?application=${encodeURIComponent(slug)}`} style={{ marginRight: "0.75rem" }}>
                Audit log of {slug}
              </Link>
            ))}
          </p>
        </>
      )}
    </section>
  );
}

/** What the lineage was asked with, for the export links. */
export type LineageAsked = Partial<Record<"channel" | "message" | "application" | "at", string>>;

/** The print header of a lineage (shown on paper only). */
export function LineagePrintHeader({ lineage }: { lineage: ChannelLineage }) {
  return (
        <header className={styles.printHeader} data-testid="lineage-print-header">
          <h2>Meshport lineage report</h2>
          <dl>
            <dt>Channel</dt>
            <dd>{lineage.channel}</dd>
            {lineage.message ? (
              <>
                <dt>Message</dt>
                <dd>{lineage.message}</dd>
              </>
            ) : null}
            {lineage.application ? (
              <>
                <dt>Application</dt>
                <dd>{lineage.application}</dd>
              </>
            ) : null}
            <dt>As of</dt>
            <dd>{lineage.at ? `${lineage.at.slice(0, 19).replace("T", " ")} UTC (observations since ${lineage.window!.from.slice(0, 19).replace("T", " ")} UTC)` : "now"}</dd>
            <dt>Printed</dt>
            <dd>
              <PrintedAt rendered={lineage.generatedAt} />
            </dd>
          </dl>
        </header>
  );
}

/** Every section of a lineage, with its exports. */
export function LineageContent({ lineage, asked }: { lineage: ChannelLineage; asked: LineageAsked }) {
  return (
    <>
          <p className={`${styles.toolbar} ${styles.noPrint}`}>
            <a href={lineageHref("/api/v1/lineage", { ...asked, format: "json" })} download data-testid="lineage-export-json">
              Export JSON
            </a>
            <a href={lineageHref("/api/v1/lineage", { ...asked, format: "csv" })} download data-testid="lineage-export-csv">
              Export CSV
            </a>
            <a href={lineageHref("/api/v1/lineage/versions.csv", asked)} download data-testid="lineage-export-versions-csv">
              Versions CSV
            </a>
            <Link href={driftHref({ channel: lineage.channel })} data-testid="lineage-drift-link">
              Drift findings
            </Link>
            {lineage.at ? <Link href={lineageHref("/lineage", { ...asked, at: null })}>Now</Link> : null}
            <PrintButton className="btn btn-plain" />
          </p>
          {lineage.at ? (
            <p className="alert alert-warn" data-testid="lineage-as-of">
              As it stood at <Time value={lineage.at} />: the contract versions current then, and what the agents saw from <Time value={lineage.window!.from} />.
            </p>
          ) : null}
          {lineage.truncated ? (
            <p className="alert alert-warn" data-testid="lineage-truncated">
              This mesh is large: some parts were left out at their limits. The export holds what is shown here.
            </p>
          ) : null}
          {lineage.declaredChannels.length > 0 ? (
            <p className={styles.path}>
              <span className="muted">Declared as</span>
              {lineage.declaredChannels.map((c) => (
                <code key={c}>{c}</code>
              ))}
            </p>
          ) : (
            <p className="alert alert-warn">No current contract declares this channel: it is only observed.</p>
          )}
          <Side role="producer" list={lineage.producers} unknown={lineage.unknownClients.filter((u) => u.role === "producer")} testId="lineage-producers" />
          <Brokers lineage={lineage} />
          <Bridges lineage={lineage} />
          <Side role="consumer" list={lineage.consumers} unknown={lineage.unknownClients.filter((u) => u.role === "consumer")} testId="lineage-consumers" />
          <Versions lineage={lineage} />
          <Changes lineage={lineage} />
    </>
  );
}
