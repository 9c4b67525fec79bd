import { errorResponse } from "../_lib/http.ts";
import { MeshportError } from "@/lib/errors.ts";

export const dynamic = "force-dynamic";

function notFound(request: Request): Response {
  return errorResponse(
    new MeshportError("not_found", `No API route ${new URL(request.url).pathname}.`, { subject: "route" }),
  );
}

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
