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
  { ignores: [".next/**", "node_modules/**", ".data/**", "test-results/**", "playwright-report/**", "bench/results/**", "next-env.d.ts"] },
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
  boundary(
    ["agents/**"],
    ["@/app/*", "@/lib/*", "@/db/*", "@/registry/*", "**/app/**", "**/lib/**", "**/db/**"],
    "agents/ stands alone: the portal imports its report schema, never the reverse.",
  ),
  boundary(
    ["app/**"],
    ["@/db/*", "!@/db/testing/*", "**/db/client*", "**/db/schema*"],
    "Pages and route handlers go through lib/; only lib/ touches db/.",
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
