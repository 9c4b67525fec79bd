/** How long each resolution of observation history is kept, from the environment. */

const MAX_RETENTION_DAYS = 36_500;

function days(name: string, fallback: number): number {
  const value = Number(process.env[name] || fallback);
  return Number.isFinite(value) && value > 0 && value <= MAX_RETENTION_DAYS ? value : fallback;
}

/** Days raw observations (and batch ids, for replay dedupe) are kept: `MESHPORT_OBSERVATION_RETENTION_DAYS`, default 30. */
export function rawRetentionDays(): number {
  return days("MESHPORT_OBSERVATION_RETENTION_DAYS", 30);
}

/** Days hourly roll-ups are kept: `MESHPORT_OBSERVATION_HOURLY_RETENTION_DAYS`, default 90. */
export function hourlyRetentionDays(): number {
  return days("MESHPORT_OBSERVATION_HOURLY_RETENTION_DAYS", 90);
}

/** Days daily roll-ups are kept: `MESHPORT_OBSERVATION_DAILY_RETENTION_DAYS`, default 730. */
export function dailyRetentionDays(): number {
  return days("MESHPORT_OBSERVATION_DAILY_RETENTION_DAYS", 730);
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** Start of the UTC hour or day holding `at`. */
export function bucketStart(at: Date, resolution: "hour" | "day"): Date {
  const size = resolution === "hour" ? HOUR_MS : DAY_MS;
  return new Date(Math.floor(at.getTime() / size) * size);
}
