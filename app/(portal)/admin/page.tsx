import type { Metadata } from "next";
import { Time } from "@/app/_components/time.tsx";
import { requirePermission } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { listUsers } from "@/lib/accounts/users.ts";
import { listTokens } from "@/lib/tokens/tokens.ts";
import {
  AddMemberForm,
  CreateTeamForm,
  CreateTokenForm,
  CreateUserForm,
  DisableForm,
  RevokeTokenForm,
  RoleForm,
} from "./forms.tsx";

export const metadata: Metadata = { title: "Admin" };

export default async function AdminPage() {
  const principal = await requirePermission("users:manage");
  const [users, teams, tokens] = await Promise.all([
    listUsers(principal),
    listTeams(principal),
    listTokens(principal),
  ]);
  return (
    <>
      <h1>Admin</h1>

      <section className="panel" aria-labelledby="users-heading">
        <h2 id="users-heading">Accounts</h2>
        <table className="table" data-testid="users-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-testid={`user-row-${u.email}`}>
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td>
                  <RoleForm userId={u.id} role={u.role} />
                </td>
                <td>{u.disabledAt ? <span className="badge badge-muted">disabled</span> : "active"}</td>
                <td>
                  <Time value={u.createdAt} />
                </td>
                <td>{u.id === principal.id ? null : <DisableForm userId={u.id} disabled={u.disabledAt !== null} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>New account</h3>
        <CreateUserForm />
      </section>

      <section className="panel" aria-labelledby="teams-heading">
        <h2 id="teams-heading">Teams</h2>
        {teams.length === 0 ? (
          <p className="muted">No teams yet. Teams own applications and review changes to their contracts.</p>
        ) : (
          <table className="table" data-testid="teams-table">
            <thead>
              <tr>
                <th>Team</th>
                <th>Slug</th>
                <th>Members</th>
                <th>Contact</th>
              </tr>
            </thead>
            <tbody>
              {teams.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.slug}</code>
                  </td>
                  <td>{t.memberCount}</td>
                  <td>{t.contact || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="two-columns">
          <div>
            <h3>New team</h3>
            <CreateTeamForm />
          </div>
          {teams.length > 0 ? (
            <div>
              <h3>Add a member</h3>
              <AddMemberForm teams={teams} />
            </div>
          ) : null}
        </div>
      </section>

      <section className="panel" aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">API tokens</h2>
        <p className="muted">
          For CI and broker agents: send <code>Authorization: Bearer &lt;token&gt;</code>. Only a digest is stored; the
          secret is shown once, when the token is created.
        </p>
        {tokens.length === 0 ? null : (
          <table className="table" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                <th>Scopes</th>
                <th>Brokers</th>
                <th>Team</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} data-testid={`token-row-${t.name}`}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{t.scopes.join(", ")}</td>
                  <td>
                    {t.brokerBinding ? (
                      <code>{t.brokerBinding}</code>
                    ) : t.scopes.includes("agent:report") ? (
                      <span className="badge badge-muted" title="Refused until replaced by a token bound to a broker">
                        unbound
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{t.teamSlug ?? <span className="muted">—</span>}</td>
                  <td>
                    <Time value={t.createdAt} />
                    {t.createdByEmail ? <small className="muted"> by {t.createdByEmail}</small> : null}
                  </td>
                  <td>
                    <Time value={t.lastUsedAt} />
                  </td>
                  <td>
                    {t.status === "active" ? "active" : <span className="badge badge-muted">{t.status}</span>}
                  </td>
                  <td>{t.status === "revoked" ? null : <RevokeTokenForm tokenId={t.id} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>New token</h3>
        <CreateTokenForm teams={teams} />
      </section>
    </>
  );
}
