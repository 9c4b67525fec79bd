"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** A navigation link marked current when its section is open. */
export function NavLink({ href, children }: { href: string; children: string }) {
  const pathname = usePathname();
  const current = pathname === href || pathname.startsWith(`${href}/`);
  return (
    <Link href={href} className={current ? "nav-link current" : "nav-link"} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}
