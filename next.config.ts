import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // `npm test` type-checks the whole project once; the build need not do it again.
  typescript: { ignoreBuildErrors: true },
  // Loaded from node_modules at run time: PGlite ships WebAssembly, pg has optional native bindings,
  // and the AsyncAPI parser stack is large and server-only.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pg",
    "@asyncapi/parser",
    "@asyncapi/avro-schema-parser",
    "@asyncapi/openapi-schema-parser",
  ],
  experimental: {
    // forbidden() / unauthorized() render real 403 / 401 pages.
    authInterrupts: true,
  },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
