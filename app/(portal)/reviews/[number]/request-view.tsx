import Link from "next/link";
import { Time } from "@/app/_components/time.tsx";
import type { RequestDiff } from "@/lib/reviews/page-data.ts";
import type { ChangeRequestView } from "@/lib/reviews/queries.ts";
import { DiffTable } from "@/app/_components/diff-table.tsx";
import { blockersBeyondReview, type ChangeEvaluation, type Finding } from "@/registry/index.ts";
import type { AffectedApplication, Impact } from "@/registry/impact/index.ts";
import {
  EVENT_LABELS,
  evidenceText,
  findingBaseline,
  findingKey,
  findingLabel,
  findingOptions,
  findingRefOf,
  REVIEWER_STATE_LABELS,
  requiredApprovalsText,
  reviewerReasonText,
  sameFinding,
  STATE_LABELS,
  upgradeFirstText,
} from "../format.ts";
import { CommentForm, CommentOnFinding, DecisionForm, OverrideForm, PublishForm, RejectForm, ReviseForm, WithdrawForm } from "../forms.tsx";

function FindingNote({ finding, evaluation, commentable }: { finding: Finding; evaluation: ChangeEvaluation; commentable: boolean }) {
  const baseline = findingBaseline(finding, evaluation);
  return (
    <div className={`cr-finding finding-${finding.verdict}`} data-testid="cr-finding" data-rule={finding.rule}>
      <code>{finding.rule}</code> {finding.verdict}
      {finding.breaks !== "none" && finding.verdict === "breaking" ? ` (breaks ${finding.breaks})` : ""}: {finding.message}
      {finding.baseline !== undefined && baseline ? <span className="muted"> (against {baseline})</span> : null}
      {commentable ? (
        <>
          {" "}
          <CommentOnFinding findingKey={findingKey(findingRefOf(finding, evaluation))} />
        </>
      ) : null}
    </div>
  );
}

function Evaluation({ request }: { request: ChangeRequestView }) {
  const { evaluation } = request.current;
  const report = evaluation.report;
  // The review itself is what this page is for; what else blocks the publish is listed.
  const blockers = blockersBeyondReview(evaluation);
  return (
    <section className="panel" data-testid="cr-evaluation">
      <h2>Evaluation</h2>
      {report ? (
        <p>
          Under <code>{report.mode}</code> against {evaluation.baseline}, the change is{" "}
          <strong className={report.compatible ? "finding-non-breaking" : "finding-breaking"} data-testid="cr-compatibility">
            {report.compatible ? "compatible" : "breaking"}
          </strong>
          {report.compatible ? "" : evaluation.newMajor ? ", proposed as a new major version" : ""}: {report.findings.length} change{report.findings.length === 1 ? "" : "s"}, a{" "}
          <strong>{report.semver}</strong> bump.
        </p>
      ) : (
        <p data-testid="cr-compatibility">First version of this contract: there is nothing earlier to break.</p>
      )}
      <dl className="facts">
        <dt>Proposed version</dt>
        <dd>
          <code>{request.current.version}</code>
        </dd>
        <dt>Suggested version</dt>
        <dd data-testid="cr-suggested-version">{evaluation.suggestedVersion ? <code>{evaluation.suggestedVersion}</code> : <span className="muted">—</span>}</dd>
        <dt>Upgrade order</dt>
        <dd data-testid="cr-upgrade-order">{evaluation.upgradeOrder ? evaluation.upgradeOrder.replace("-", " ") : <span className="muted">—</span>}</dd>
        <dt>Lint</dt>
        <dd data-testid="cr-lint">
          {evaluation.lint.length === 0 ? (
            "no findings"
          ) : (
            <details>
              <summary>
                {evaluation.lint.length} finding{evaluation.lint.length === 1 ? "" : "s"}
              </summary>
              <ul>
                {evaluation.lint.slice(0, 50).map((f, i) => (
                  <li key={i}>
                    {f.severity} <code>{f.rule}</code>: {f.message}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </dd>
        <dt>Judged</dt>
        <dd>
          <Time value={request.current.evaluatedAt} />
        </dd>
      </dl>
      <div data-testid="cr-blockers">
        {blockers.length === 0 ? (
          <p className="finding-non-breaking">Nothing blocks a publish once the reviews are done.</p>
        ) : (
          <>
            <p>What blocks a publish:</p>
            <ul>
              {blockers.map((b, i) => (
                <li key={i} className="finding-breaking">
                  {b.message}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      {evaluation.against.length > 1 ? (
        <p className="small muted">
          Also judged against {evaluation.against.slice(1).map((a) => a.version).join(", ")} ({report?.mode}).
        </p>
      ) : null}
    </section>
  );
}

function Diff({ diff, evaluation, commentable }: { diff: RequestDiff; evaluation: ChangeEvaluation; commentable: boolean }) {
  return (
    <section className="panel" data-testid="cr-diff">
      <h2>Changes</h2>
      <p className="muted small">
        {diff.baseline
          ? diff.baselineFound
            ? `The proposal's root document against version ${diff.baseline}.`
            : `Version ${diff.baseline} is no longer stored; the proposal is shown whole.`
          : "A first version: every line is new."}
      </p>
      {diff.unplaced.map((f, i) => (
        <FindingNote key={i} finding={f} evaluation={evaluation} commentable={commentable} />
      ))}
      <DiffTable lines={diff.lines} renderFinding={(f, j) => <FindingNote key={j} finding={f} evaluation={evaluation} commentable={commentable} />} />
    </section>
  );
}

function AffectedApp({ app, ownerName }: { app: AffectedApplication; ownerName: string }) {
  const upgrade = upgradeFirstText(app, ownerName);
  return (
    <li className="cr-impact-app" data-testid={`impact-app-${app.application.slug}`}>
      <p>
        <Link href={`/catalog/${app.application.slug}`}>{app.application.name}</Link> <span className="muted small">({app.application.teamName})</span>{" "}
        <span className="badge badge-muted" data-testid="impact-role">
          {app.role}
        </span>{" "}
        {app.breaking ? (
          <span className="badge badge-warn" data-testid="impact-breaking">
            breaking
          </span>
        ) : (
          <span className="badge badge-muted" data-testid="impact-breaking">
            not breaking
          </span>
        )}
      </p>
      {app.channels.length > 0 ? (
        <p className="small">
          On {app.channels.map((c, i) => (
            <span key={c}>
              {i > 0 ? ", " : ""}
              <code>{c}</code>
            </span>
          ))}
        </p>
      ) : null}
      {app.findings.length > 0 ? (
        <ul className="small" data-testid="impact-findings">
          {app.findings.map((f, i) => (
            <li key={i} className={f.breaking ? "finding-breaking" : "finding-unclassified"}>
              <code>{f.rule}</code>
              {f.channel ? (
                <>
                  {" "}
                  on <code>{f.channel}</code>
                </>
              ) : null}
              : {f.message}
            </li>
          ))}
          {app.findingCount > app.findings.length ? <li className="muted">and {app.findingCount - app.findings.length} more</li> : null}
        </ul>
      ) : null}
      <ul className="small cr-evidence" data-testid="impact-evidence">
        {app.evidence.map((e, i) => {
          const { kind, text } = evidenceText(e);
          return (
            <li key={i}>
              <span className={`badge ${kind === "declared" ? "badge-muted" : "badge-warn"}`}>{kind}</span> {text}
            </li>
          );
        })}
      </ul>
      {upgrade ? (
        <p className="small" data-testid="impact-upgrade">
          {upgrade}
        </p>
      ) : null}
      {app.truncated ? <p className="small muted">Only the first findings and evidence are listed.</p> : null}
    </li>
  );
}

function ImpactSection({ impact, owner }: { impact: Impact; owner: ChangeRequestView["application"] }) {
  const others = impact.applications.filter((a) => a.application.id !== owner.id);
  return (
    <section className="panel" data-testid="cr-impact">
      <h2>Impact</h2>
      {impact.channels.length > 0 ? (
        <p className="small">
          Changed channels:{" "}
          {impact.channels.map((c, i) => (
            <span key={c.address}>
              {i > 0 ? ", " : ""}
              <code className={c.breaking ? "finding-breaking" : undefined}>{c.address}</code>
            </span>
          ))}
        </p>
      ) : null}
      {others.length === 0 ? (
        <p data-testid="impact-none">No other application is affected.</p>
      ) : (
        <ul className="cr-impact-apps">
          {others.map((a) => (
            <AffectedApp key={`${a.application.id}-${a.role}`} app={a} ownerName={owner.name} />
          ))}
        </ul>
      )}
      {impact.unknownClients.length > 0 ? (
        <div data-testid="impact-unknown">
          <h3>Observed clients no application claims</h3>
          <table className="table">
            <thead>
              <tr>
                <th>Broker</th>
                <th>Client id</th>
                <th>Role</th>
                <th>Topic</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {impact.unknownClients.map((c, i) => (
                <tr key={i}>
                  <td>{c.brokerId}</td>
                  <td>
                    <code>{c.clientId}</code>
                  </td>
                  <td>{c.role}</td>
                  <td>
                    <code>{c.filter ?? c.template}</code>
                  </td>
                  <td>
                    <Time value={c.lastSeen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="small muted">Add client-id patterns to the applications these clients belong to, so their teams are asked to review.</p>
        </div>
      ) : null}
      {impact.truncated ? <p className="small muted">The impact is cut to its bounds; only the first entries are listed.</p> : null}
    </section>
  );
}

function Reviewers({ request }: { request: ChangeRequestView }) {
  return (
    <section className="panel" data-testid="cr-reviewers">
      <h2>Reviewers</h2>
      <p className="small">
        {request.status.changesRequested ? "Changes are requested." : request.status.satisfied ? "Every required approval is given." : "Approvals are still needed."}
      </p>
      <ul className="cr-reviewers">
        {request.reviewers.map((r) => (
          <li key={r.team.id} data-testid={`reviewer-${r.team.slug}`}>
            <strong>{r.team.name}</strong> <span className="muted small">{reviewerReasonText(r.reason, r.applications)}</span> —{" "}
            <span className={`cr-reviewer-state cr-reviewer-${r.state}`} data-testid="reviewer-state">
              {REVIEWER_STATE_LABELS[r.state]}
            </span>
            <div className="small muted">{requiredApprovalsText(r.requiredApprovals)}</div>
            {r.approvedBy.length > 0 ? <div className="small">Approved by {r.approvedBy.join(", ")}</div> : null}
            {r.changesRequestedBy.length > 0 ? <div className="small finding-breaking">Changes requested by {r.changesRequestedBy.join(", ")}</div> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Conversation({ request }: { request: ChangeRequestView }) {
  const findings = request.current.evaluation.report?.findings ?? [];
  return (
    <section className="panel" data-testid="cr-conversation">
      <h2>Conversation</h2>
      <ol className="cr-events">
        {request.events.map((e) => {
          const current = e.finding ? findings.find((f) => sameFinding(findingRefOf(f, request.current.evaluation), e.finding)) : undefined;
          return (
            <li key={e.id} data-testid={`event-${e.id}`} data-kind={e.kind} className={`cr-event cr-event-${e.kind}`}>
              <p className="cr-event-head">
                <strong>{e.actorLabel}</strong> {EVENT_LABELS[e.kind]}
                {e.kind === "revised" ? ` ${e.revision}` : ""} <span className="muted small">· revision {e.revision} · <Time value={e.createdAt} /></span>
              </p>
              {e.finding ? (
                <p className="small" data-testid="event-finding">
                  On <code>{findingLabel(e.finding, request.current.evaluation.baseline)}</code>
                  {current ? <span className="muted">: {current.message}</span> : null}
                </p>
              ) : null}
              {e.body ? <p className="cr-event-body">{e.kind === "override" ? `Reason: ${e.body}` : e.body}</p> : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** Everything the request page shows of one change request, with the forms its reader may use. */
export function ChangeRequestContent({ request, diff }: { request: ChangeRequestView; diff: RequestDiff }) {
  const { can, application: app, current } = request;
  const key = String(request.number);
  const options = findingOptions(current.evaluation);
  return (
    <>
      <p className="muted small">
        <Link href="/reviews">Reviews</Link> /
      </p>
      <h1>
        {request.title} <span className="muted">#{request.number}</span>
      </h1>
      <dl className="facts">
        <dt>State</dt>
        <dd>
          <span className={`badge cr-badge cr-badge-${request.state}`} data-testid="cr-state">
            {STATE_LABELS[request.state]}
          </span>{" "}
          {request.breaking ? <span className="badge badge-warn">breaking</span> : null}
        </dd>
        <dt>Application</dt>
        <dd>
          <Link href={`/catalog/${app.slug}`} data-testid="cr-application">
            {app.name}
          </Link>{" "}
          <span className="muted small">({app.team.name})</span>
        </dd>
        <dt>Author</dt>
        <dd data-testid="cr-author">{request.authorLabel}</dd>
        <dt>Version</dt>
        <dd>
          <code data-testid="cr-version">{current.version}</code>
        </dd>
        <dt>Opened</dt>
        <dd>
          <Time value={request.createdAt} />
        </dd>
        {request.publishedVersion ? (
          <>
            <dt>Published</dt>
            <dd>
              <Link href={`/catalog/${app.slug}/versions/${encodeURIComponent(request.publishedVersion)}`} data-testid="cr-published-link">
                {app.name} {request.publishedVersion}
              </Link>
            </dd>
          </>
        ) : null}
      </dl>
      {request.description ? <p className="cr-description">{request.description}</p> : null}
      <section className="panel" data-testid="cr-revisions">
        <h2>Revisions</h2>
        <ol className="cr-revisions" reversed>
          {request.revisions.map((r) => (
            <li key={r.number} data-testid={`revision-${r.number}`}>
              Revision {r.number}: <code>{r.version}</code> by {r.createdByLabel}, <Time value={r.createdAt} />
              {r.number === current.number ? <span className="badge badge-muted">current</span> : null}
            </li>
          ))}
        </ol>
      </section>
      <Evaluation request={request} />
      <Diff diff={diff} evaluation={current.evaluation} commentable={can.comment} />
      <ImpactSection impact={current.impact} owner={app} />
      <Reviewers request={request} />
      <Conversation request={request} />
      {can.comment || can.decide || can.revise || can.publish || can.override || can.reject || can.withdraw ? (
        <section className="panel cr-actions" data-testid="cr-actions">
          <h2>Take part</h2>
          {can.publish ? (
            <div>
              <h3>Publish</h3>
              <p className="small">Approved: publish the current revision as {current.version}.</p>
              <PublishForm number={key} revision={current.number} />
            </div>
          ) : null}
          {can.decide ? (
            <div>
              <h3>Review</h3>
              <DecisionForm number={key} revision={current.number} findings={options} />
            </div>
          ) : null}
          {can.comment ? (
            <div>
              <h3>Comment</h3>
              <CommentForm number={key} findings={options} />
            </div>
          ) : null}
          {can.revise ? (
            <div>
              <h3>New revision</h3>
              <ReviseForm number={key} revision={current.number} document={current.files[current.rootFile] ?? ""} version={current.version} />
            </div>
          ) : null}
          {can.override ? (
            <div>
              <h3>Override</h3>
              <p className="small">Publish without the approvals. The reason is recorded and shown on the version.</p>
              <OverrideForm number={key} revision={current.number} />
            </div>
          ) : null}
          {can.reject ? (
            <div>
              <h3>Reject</h3>
              <RejectForm number={key} />
            </div>
          ) : null}
          {can.withdraw ? (
            <div>
              <h3>Withdraw</h3>
              <WithdrawForm number={key} />
            </div>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
