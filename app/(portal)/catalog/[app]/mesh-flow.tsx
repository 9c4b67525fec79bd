import Link from "next/link";
import { channelHref } from "@/app/_components/catalog.tsx";
import type { MeshChannel } from "@/lib/catalog/mesh.ts";
import { KIND_LABELS, SYSTEM_TYPE_LABELS, type ApplicationKind } from "@/lib/systems/declaration.ts";
import type { ConnectedSystem } from "@/lib/systems/systems.ts";

const LIST = { listStyle: "none", paddingLeft: 0, margin: 0 } as const;

function Systems({ systems, empty }: { systems: ConnectedSystem[]; empty: string }) {
  if (systems.length === 0) return <span className="muted">{empty}</span>;
  return (
    <>
      {systems.map((s, i) => (
        <span key={`${s.slug} ${s.role}`}>
          {i > 0 ? ", " : null}
          <Link href={`/systems/${s.slug}`}>{s.name}</Link> <small className="muted">{SYSTEM_TYPE_LABELS[s.type]}</small>
        </span>
      ))}
    </>
  );
}

/**
 * The flow through an application, server-rendered: the systems it reads from → it → its channels → the
 * applications on their other side → the systems those connect; and the systems it delivers into.
 */
export function MeshFlow({
  appSlug,
  appName,
  mesh,
}: {
  appSlug: string;
  appName: string;
  mesh: { kind: ApplicationKind; kindSource: "contract" | "portal" | null; sources: ConnectedSystem[]; targets: ConnectedSystem[]; channels: MeshChannel[]; truncated: boolean };
}) {
  return (
    <>
      <dl className="facts">
        <dt>Kind</dt>
        <dd data-testid="application-kind">
          <Link href={`/catalog?kind=${mesh.kind}`}>{KIND_LABELS[mesh.kind]}</Link>
          {mesh.kindSource ? <span className="muted"> (set by the {mesh.kindSource === "contract" ? "contract" : "portal"})</span> : <span className="muted"> (not said)</span>}
        </dd>
        <dt>Reads from</dt>
        <dd data-testid="source-systems">
          <Systems systems={mesh.sources} empty="no system" />
        </dd>
        <dt>Delivers into</dt>
        <dd data-testid="target-systems">
          <Systems systems={mesh.targets} empty="no system" />
        </dd>
      </dl>
      {mesh.channels.length === 0 ? null : (
        <table className="table" data-testid="mesh-flow" aria-label={`Events flowing through ${appName}`}>
          <caption className="muted small">
            {mesh.sources.length ? `${mesh.sources.map((s) => s.name).join(", ")} → ` : ""}
            {appName} → channels → the applications on the other side → their systems
          </caption>
          <thead>
            <tr>
              <th scope="col">{appName}</th>
              <th scope="col">Channel</th>
              <th scope="col">Other side</th>
              <th scope="col">Their systems</th>
            </tr>
          </thead>
          <tbody>
            {mesh.channels.map((c) => (
              <tr key={`${c.action} ${c.channel}`} data-testid="mesh-flow-row">
                <td>{c.action === "send" ? "sends →" : "← receives"}</td>
                <td>
                  <Link href={channelHref(appSlug, c.channel)}>
                    <code>{c.channel}</code>
                  </Link>{" "}
                  <small className="muted">{c.messages.join(", ")}</small>
                </td>
                <td>
                  {c.counterparts.length === 0 ? (
                    <span className="muted">{c.action === "send" ? "no receiver in the catalog" : "no sender in the catalog"}</span>
                  ) : (
                    <ul style={LIST}>
                      {c.counterparts.map((p) => (
                        <li key={p.application.slug}>
                          {c.action === "send" ? "→ " : "← "}
                          <Link href={`/catalog/${p.application.slug}`}>{p.application.name}</Link> <small className="muted">{KIND_LABELS[p.application.kind]}</small>
                        </li>
                      ))}
                      {c.truncated ? <li className="muted small">and more</li> : null}
                    </ul>
                  )}
                </td>
                <td>
                  <ul style={LIST}>
                    {c.counterparts.map((p) => {
                      const relevant = p.systems.filter((s) => s.role === (c.action === "send" ? "target" : "source"));
                      return relevant.length ? (
                        <li key={p.application.slug}>
                          {c.action === "send" ? "→ " : "← "}
                          <Systems systems={relevant} empty="" />
                        </li>
                      ) : null;
                    })}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mesh.truncated ? <p className="muted small">Only the first channels are listed.</p> : null}
    </>
  );
}
