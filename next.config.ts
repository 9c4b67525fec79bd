import type { NextConfig } from "next";
import { SERVER_ACTION_BODY_LIMIT } from "./lib/http/limits.ts";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // Separate build folders let a test build sit beside the one a running portal serves.
  distDir: process.env.MESHPORT_DIST_DIR || ".next",
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
  // The AsyncAPI viewer pulls the parser, which requires `fs`; browsers get an empty module (STACK.md).
  turbopack: {
    resolveAlias: { fs: { browser: "./scripts/empty-module.cjs" } },
  },
  webpack(config, { isServer }) {
    if (!isServer) config.resolve.fallback = { ...config.resolve.fallback, fs: false };
    return config;
  },
  experimental: {
    // forbidden() / unauthorized() render real 403 / 401 pages.
    authInterrupts: true,
    // Contract uploads through the publish form may reach the 5 MB upload limit.
    serverActions: { bodySizeLimit: SERVER_ACTION_BODY_LIMIT },
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
