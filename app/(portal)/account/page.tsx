import type { Metadata } from "next";
import { headers } from "next/headers";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { accountOverview } from "@/lib/accounts/profile.ts";
import { sessionFromHeaders } from "@/lib/auth/authenticate.ts";
import { MIN_PASSWORD_LENGTH } from "@/lib/auth/better-auth.ts";
import { PasswordForm, ProfileForm, SignOutOthersForm } from "./forms.tsx";

export const metadata: Metadata = { title: "Your account" };

export default async function AccountPage() {
  const user = await requireUser();
  const current = await sessionFromHeaders(await headers());
  const overview = await accountOverview(user, current?.sessionId ?? null);
  return (
    <>
      <h1>Your account</h1>
      <dl className="facts" data-testid="account-facts">
        <dt>Email</dt>
        <dd>{overview.email}</dd>
        <dt>Role</dt>
        <dd>{overview.role}</dd>
        <dt>Member since</dt>
        <dd>
          <Time value={overview.createdAt} />
        </dd>
      </dl>

      <section className="panel" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Name</h2>
        <ProfileForm name={overview.name} />
      </section>

      <section className="panel" aria-labelledby="password-heading">
        <h2 id="password-heading">Password</h2>
        <PasswordForm minLength={MIN_PASSWORD_LENGTH} />
      </section>

      <section className="panel" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <p data-testid="other-sessions">
          {overview.otherSessions === 0
            ? "You are signed in only here."
            : `You are also signed in in ${overview.otherSessions} other ${overview.otherSessions === 1 ? "session" : "sessions"}.`}
        </p>
        <SignOutOthersForm />
      </section>
    </>
  );
}
