import { auditFilterParams, exportAudit } from "@/lib/audit/audit.ts";
import { AUDIT_EXPORT_FORMATS, auditExportContentType, auditExportFileName, formatAuditExport, type AuditExportFormat } from "@/lib/audit/format.ts";
import { MeshportError } from "@/lib/errors.ts";
import { authenticated } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

function formatOf(params: URLSearchParams): AuditExportFormat {
  const format = params.get("format") ?? "csv";
  const known = AUDIT_EXPORT_FORMATS.find((f) => f === format);
  if (!known) {
    throw new MeshportError("invalid_input", "Export as csv or json.", {
      details: { fieldErrors: { format: [`Use one of ${AUDIT_EXPORT_FORMATS.join(", ")}.`] }, formErrors: [] },
    });
  }
  return known;
}

/**
 * The audit entries the report's filters select (as `GET /api/v1/audit` takes them), newest first, as a file:
 * `?format=csv` (the default; RFC 4180, a header line, cells a spreadsheet would run as formulas prefixed with an
 * apostrophe) or `?format=json` (one array, an entry a line). Streamed page by page as the database is read.
 */
export const GET = authenticated(async (request, principal) => {
  const params = new URL(request.url).searchParams;
  const format = formatOf(params);
  const { pages } = await exportAudit(principal, auditFilterParams(params));
  const chunks = formatAuditExport(format, pages);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        // Headers are gone already: the client sees the transfer break off, never a file that looks whole.
        console.error("meshport: the audit export failed while streaming", error);
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": auditExportContentType(format),
      "content-disposition": `attachment; filename="${auditExportFileName(format, new Date())}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
