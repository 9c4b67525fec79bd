import Link from "next/link";
import type { ReactNode } from "react";
import { NavLink } from "@/app/_components/nav-link.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { can } from "@/lib/auth/permissions.ts";
import { unreadCount } from "@/lib/notifications/inbox.ts";
import { mayManageWebhooks } from "@/lib/notifications/webhooks.ts";
import { waitingCount } from "@/lib/reviews/queries.ts";
import { signOutAction } from "../(auth)/actions.ts";

const SECTIONS = [
  { href: "/catalog", label: "Catalog" },
  { href: "/systems", label: "Systems" },
  { href: "/registry", label: "Registry" },
  { href: "/discover", label: "Discover" },
  { href: "/reviews", label: "Reviews" },
  { href: "/topology", label: "Topology" },
  { href: "/brokers", label: "Brokers" },
  { href: "/drift", label: "Drift" },
  { href: "/audit", label: "Audit" },
  { href: "/webhooks", label: "Webhooks" },
  { href: "/admin", label: "Admin" },
] as const;

export const dynamic = "force-dynamic";

export default async function PortalLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  const [unread, webhooks, waiting] = await Promise.all([unreadCount(user), mayManageWebhooks(user), waitingCount(user)]);
  const visible = SECTIONS.filter(
    (s) =>
      (s.href !== "/admin" || can(user, "users:manage")) &&
      (s.href !== "/audit" || can(user, "audit:read")) &&
      (s.href !== "/webhooks" || webhooks),
  );
  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/catalog" className="brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>{" "}
          Meshport
        </Link>
        <nav aria-label="Sections" className="nav">
          {visible.map((s) => (
            <NavLink key={s.href} href={s.href}>
              {s.href === "/reviews" && waiting > 0 ? `${s.label} (${waiting > 99 ? "99+" : waiting})` : s.label}
            </NavLink>
          ))}
        </nav>
        <div className="whoami" data-testid="current-user">
          <Link href="/inbox" className="inbox-link" data-testid="inbox-count">
            Inbox
            {unread > 0 ? (
              <>
                {" "}
                <span className="badge" title={`${unread} unread`}>
                  {unread > 99 ? "99+" : unread}
                </span>
              </>
            ) : null}
          </Link>
          <Link href="/account" className="whoami-name" data-testid="account-link">
            {user.name}
          </Link>
          <span className={`role-badge role-${user.role}`} data-testid="current-role">
            {user.role}
          </span>
          <form action={signOutAction}>
            <button type="submit" className="btn btn-plain" data-testid="sign-out">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
