/** The global id of a registered schema (`schema.id`), as the schema registry serves it: "schema #12". */
export function SchemaId({ id, testId = "payload-schema-id" }: { id: number | null; testId?: string }) {
  if (id === null) return null;
  return (
    <code className="small" data-testid={testId}>
      schema #{id}
    </code>
  );
}
