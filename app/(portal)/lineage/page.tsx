import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { isMeshportError, type InputErrorDetails } from "@/lib/errors.ts";
import { queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { channelLineage, MAX_CHANNEL_BYTES, type ChannelLineage } from "@/lib/lineage/lineage.ts";
import styles from "./lineage.module.css";
import { LineageContent, LineagePrintHeader } from "./lineage-view.tsx";

export const metadata: Metadata = { title: "Lineage" };

export default async function LineagePage({ searchParams }: { searchParams: Promise<Record<string, SearchParamValue>> }) {
  const principal = await requireUser();
  const params = await searchParams;
  // Longer than the service takes is refused by it (a clear error), not dropped here.
  const channel = queryText(params.channel, MAX_CHANNEL_BYTES * 4);
  const message = queryText(params.message, 200);
  const app = queryText(params.application, 100);
  const at = queryText(params.at, 40);
  const asked = { channel, message, application: app, at };

  let lineage: ChannelLineage | null = null;
  let problem: { kind: "not_found" | "invalid_input"; message: string; fields: [string, string[]][] } | null = null;
  if (channel) {
    try {
      lineage = await channelLineage(principal, { channel, ...(message ? { message } : {}), ...(app ? { application: app } : {}), ...(at ? { at } : {}) });
    } catch (error) {
      if (!isMeshportError(error) || (error.kind !== "not_found" && error.kind !== "invalid_input")) throw error;
      const details = error.details as InputErrorDetails | undefined;
      problem = { kind: error.kind, message: error.message, fields: Object.entries(details?.fieldErrors ?? {}) };
    }
  }

  return (
    <div className={styles.report}>
      {lineage ? <LineagePrintHeader lineage={lineage} /> : null}
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> / <Link href="/topology">Topology</Link> / Lineage
      </p>
      <h1>
        Lineage{lineage ? (
          <>
            {" "}
            of <code data-testid="lineage-channel">{lineage.channel}</code>
          </>
        ) : null}
      </h1>

      <form className="panel form-grid form" method="get" action="/lineage" data-testid="lineage-form">
        <div className="field">
          <label htmlFor="lineage-channel">Channel or topic</label>
          <input id="lineage-channel" name="channel" defaultValue={channel ?? ""} placeholder="plant/{lineId}/temperature" maxLength={MAX_CHANNEL_BYTES} required />
        </div>
        <div className="field">
          <label htmlFor="lineage-message">Message</label>
          <input id="lineage-message" name="message" defaultValue={message ?? ""} placeholder="every message" maxLength={200} />
        </div>
        {app ? <input type="hidden" name="application" value={app} /> : null}
        <div className="field">
          <label htmlFor="lineage-at">As of</label>
          <input id="lineage-at" name="at" type="date" defaultValue={at && /^\d{4}-\d{2}-\d{2}/.test(at) ? at.slice(0, 10) : ""} data-testid="lineage-at" />
        </div>
        <button className="btn btn-primary" type="submit">
          Show lineage
        </button>
      </form>

      {!channel ? (
        <EmptyState title="Which event?" testId="lineage-empty">
          <p>
            Name a channel address from a contract (<code>plant/{"{lineId}"}/temperature</code>) or a concrete topic. The lineage shows who produces it,
            which brokers carry it and across which bridges, who consumes it, how its payload schema changed from version to version, and who changed
            it. Pick a date to see it as it stood then.
          </p>
        </EmptyState>
      ) : problem ? (
        <div className="alert alert-error" role="alert" data-testid={problem.kind === "not_found" ? "lineage-not-found" : "lineage-error"}>
          {problem.message}
          {problem.fields.length > 0 ? (
            <ul>
              {problem.fields.map(([field, messages]) => (
                <li key={field}>
                  {field}: {messages.join(" ")}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : lineage ? (
        <LineageContent lineage={lineage} asked={asked} />
      ) : null}
    </div>
  );
}
