import Link from "next/link";
import { schemaHref } from "@/app/(portal)/registry/format.ts";

/** The global id of a registered schema (`schema.id`), as the schema registry serves it: "schema #12", linking to its page. */
export function SchemaId({ id, testId = "payload-schema-id" }: { id: number | null; testId?: string }) {
  if (id === null) return null;
  return (
    <Link href={schemaHref(id)} data-testid={testId}>
      <code className="small">schema #{id}</code>
    </Link>
  );
}
