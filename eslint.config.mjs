import nextVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

// Module boundaries of DESIGN.md: registry/ is pure, only lib/ touches db/, agents/ stands alone.
const boundary = (files, groups, message) => ({
  files,
  rules: {
    "no-restricted-imports": ["error", { patterns: [{ group: groups, message }] }],
  },
});

const config = [
  { ignores: [".next/**", ".next-*/**", "dist/**", "node_modules/**", ".data/**", "test-results/**", "playwright-report/**", "bench/results/**", "next-env.d.ts"] },
  ...nextVitals,
  ...nextTypescript,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@next/next/no-html-link-for-pages": "off",
    },
  },
  boundary(
    ["registry/**"],
    ["@/app/*", "@/lib/*", "@/db/*", "@/agents/*", "@/cli/*", "**/app/**", "**/lib/**", "**/db/**", "**/agents/**", "**/cli/**"],
    "registry/ is a pure library: it imports nothing from app, lib, db, agents or cli.",
  ),
  {
    files: ["agents/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@/app/*", "@/lib/*", "@/db/*", "**/app/**", "**/lib/**", "**/db/**"],
              message: "agents/ stands alone: the portal imports its report schema, never the reverse.",
            },
            {
              // The shared topic algebra is pure and dependency-free; the rest of registry/ is not for the agent.
              regex: "(^|/)registry(/(?!topics/[^/]+$)|$)",
              message: "agents/ may import only registry/topics (the shared topic algebra) from the registry.",
            },
            {
              // bin/meshport-agent.mjs runs the sources through tsx from any directory, where tsconfig paths are not found.
              regex: "^@/",
              message: "agents/ imports by relative path (../registry/topics/index.ts), never through the @/ alias.",
            },
          ],
        },
      ],
    },
  },
  {
    // The agent runs registry/topics from source, so it must stay self-contained.
    files: ["registry/topics/**"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^(?!\\./)", message: "registry/topics imports only its own files: agents/ loads it as source." }] },
      ],
    },
  },
  boundary(
    ["app/**"],
    ["@/db/*", "!@/db/testing/*", "**/db/client*", "**/db/schema*"],
    "Pages and route handlers go through lib/; only lib/ touches db/.",
  ),
  boundary(
    ["lib/**"],
    ["@/demo/*", "**/demo/**", "@/app/*", "**/app/**"],
    "lib/ holds the services: it imports neither the demo world (demo/ imports lib/, never the reverse) nor the portal (app/).",
  ),
  {
    // Playwright fixtures receive a `use` callback that is not React's hook.
    files: ["e2e/**"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
  {
    // Integration tests inspect the database directly to prove that nothing was written.
    files: ["**/*.int.test.ts"],
    rules: { "no-restricted-imports": "off" },
  },
];

export default config;
