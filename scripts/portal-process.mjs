// Starts a production portal and, in demo mode, the demo mesh (broker, agent, traffic)
// once the portal answers. Shared by the demo command and the end-to-end test server.
import { spawn } from "node:child_process";

async function waitForHealth(base, child, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      if ((await fetch(`${base}/api/v1/health`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Runs the portal server (and the demo mesh when `env.MESHPORT_DEMO` is 1) until a signal; exits with the portal. */
export function runPortal({ port, host, env }) {
  // Node runs the portal server directly (not through npx), so signals reach it.
  const portal = spawn(process.execPath, ["bin/meshport-portal.mjs"], {
    stdio: "inherit",
    env: { ...env, PORT: String(port), MESHPORT_HOST: host },
  });
  let mesh = null;
  const stopAll = (signal) => {
    mesh?.kill(signal);
    portal.kill(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopAll(signal));
  portal.on("exit", (code) => {
    mesh?.kill("SIGTERM");
    process.exit(code ?? 0);
  });
  if (env.MESHPORT_DEMO === "1" || env.MESHPORT_DEMO === "true") {
    void waitForHealth(`http://127.0.0.1:${port}`, portal).then((healthy) => {
      if (!healthy) return;
      mesh = spawn(process.execPath, ["--import", "tsx", "scripts/demo-mesh.ts"], {
        stdio: "inherit",
        env: { ...env, MESHPORT_URL: `http://127.0.0.1:${port}` },
      });
      mesh.on("exit", (code) => {
        if (code) console.error(`meshport: the demo mesh stopped (exit ${code}); the portal keeps running without live traffic.`);
      });
    });
  }
  return portal;
}
