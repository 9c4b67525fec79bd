"use client";

import { useEffect, useState } from "react";

/** The moment the report is printed: the render time at first, the print dialog's time once it opens. */
export function PrintedAt({ rendered }: { rendered: string }) {
  const [at, setAt] = useState(rendered);
  useEffect(() => {
    const update = () => setAt(new Date().toISOString());
    window.addEventListener("beforeprint", update);
    return () => window.removeEventListener("beforeprint", update);
  }, []);
  return <time dateTime={at}>{at.slice(0, 19).replace("T", " ")} UTC</time>;
}

/** A button that opens the browser's print dialog (the page has a print stylesheet). */
export function PrintButton({ className }: { className?: string }) {
  return (
    <button type="button" className={className} onClick={() => window.print()}>
      Print
    </button>
  );
}
