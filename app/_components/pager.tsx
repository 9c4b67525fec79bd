import Link from "next/link";
import type { ReactNode } from "react";

/** Previous/next links for a list paged on the server; `href` builds the link to a page. */
export function Pager({ page, hasNext, href, children }: { page: number; hasNext: boolean; href: (page: number) => string; children?: ReactNode }) {
  if (page <= 1 && !hasNext) return null;
  return (
    <p className="pager">
      {page > 1 ? <Link href={href(page - 1)}>← Previous</Link> : null}
      {children}
      {hasNext ? <Link href={href(page + 1)}>Next →</Link> : null}
    </p>
  );
}
