/** A rate in messages per second, compact. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 100) return `${Math.round(perSecond)}/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(1)}/s`;
  if (perSecond > 0) return `${(perSecond * 60).toFixed(1)}/min`;
  return "0/s";
}

/** A count with thousands separators. */
export function formatCount(value: number): string {
  return new Intl.NumberFormat("en-US").format(value);
}

/** A byte size in B, kB, MB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${bytes} B`;
}
