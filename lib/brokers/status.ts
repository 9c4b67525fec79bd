/** Whether an agent is reporting: online within three report intervals, else stale. */
export function agentStatus(lastReportAt: Date | null, now: number, intervalSeconds = 10): "online" | "stale" | "never" {
  if (!lastReportAt) return "never";
  return now - lastReportAt.getTime() <= Math.max(30, intervalSeconds * 3) * 1000 ? "online" : "stale";
}
