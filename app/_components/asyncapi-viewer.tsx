"use client";

import "@asyncapi/react-component/styles/default.min.css";
import dynamic from "next/dynamic";

// The viewer bundles the AsyncAPI parser (megabytes): load it only on the page that renders a document.
const AsyncApiComponent = dynamic(() => import("@asyncapi/react-component").then((m) => m.default), {
  ssr: false,
  loading: () => <p className="muted">Loading the documentation…</p>,
});

/** Renders an AsyncAPI document as documentation. */
export function AsyncApiViewer({ document }: { document: string }) {
  return (
    <div data-testid="asyncapi-doc">
      <AsyncApiComponent schema={document} config={{ show: { sidebar: false, errors: true } }} />
    </div>
  );
}
