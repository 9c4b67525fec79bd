// One command from a fresh clone to a running demo portal: install dependencies when
// they are missing or stale, build when the sources changed, then start with demo data and
// the demo mesh (scripts/demo-mesh.ts): two embedded MQTT brokers bridged to each other, an
// agent on each, and demo traffic.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runPortal } from "./portal-process.mjs";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);

function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function newer(a, b) {
  return !existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs;
}

if (newer("package-lock.json", "node_modules/.package-lock.json")) {
  console.log("meshport: installing dependencies (npm ci)…");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

// The build is redone when any source file changed since the last one.
function fingerprint() {
  const hash = createHash("sha256");
  const visit = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else {
        const stat = statSync(full);
        hash.update(`${full}:${stat.size}:${stat.mtimeMs}\n`);
      }
    }
  };
  for (const dir of ["app", "lib", "db", "registry", "agents", "demo", "public"]) visit(dir);
  for (const file of ["next.config.ts", "package-lock.json", "tsconfig.json", "instrumentation.ts"]) {
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

const distDir = process.env.MESHPORT_DIST_DIR || ".next";
const stamp = path.join(distDir, "meshport-build-fingerprint");
const current = fingerprint();
if (!existsSync(path.join(distDir, "BUILD_ID")) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== current) {
  console.log("meshport: building the portal (next build)…");
  run("npx", ["next", "build"]);
  writeFileSync(stamp, current);
}

const port = process.env.PORT || "3000";
const host = process.env.MESHPORT_HOST || "127.0.0.1";
runPortal({
  port,
  host,
  env: {
    ...process.env,
    NODE_ENV: "production",
    MESHPORT_DEMO: process.env.MESHPORT_DEMO ?? "1",
    MESHPORT_URL: process.env.MESHPORT_URL || `http://localhost:${port}`,
  },
});
