import autocannon from "autocannon";
import { median, round } from "./stats.ts";

interface Sample {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** What one route did under load: medians over the rounds. */
export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RouteUnderLoad {
  url: string;
  headers?: Record<string, string>;
}

async function sample(route: RouteUnderLoad, connections: number, seconds: number): Promise<Sample> {
  const result = await autocannon({ url: route.url, connections, duration: seconds, headers: route.headers ?? {} });
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

const summarise = (samples: Sample[]): LoadFigures => ({
  requestsPerSecond: round(median(samples.map((s) => s.requestsPerSecond)), 0),
  p50Ms: median(samples.map((s) => s.p50Ms)),
  p99Ms: median(samples.map((s) => s.p99Ms)),
});

/**
 * A route beside its baseline under the same load: one warm-up each, then interleaved rounds so both see the
 * same machine noise. Any non-2xx answer or error fails the run.
 */
export async function besideBaseline(
  label: string,
  baseline: RouteUnderLoad,
  subject: RouteUnderLoad,
  { connections, seconds, rounds }: { connections: number; seconds: number; rounds: number },
): Promise<{ baseline: LoadFigures; subject: LoadFigures; throughputRatio: number }> {
  await sample(baseline, connections, seconds);
  await sample(subject, connections, seconds);
  const baselineSamples: Sample[] = [];
  const subjectSamples: Sample[] = [];
  for (let r = 0; r < rounds; r++) {
    baselineSamples.push(await sample(baseline, connections, seconds));
    subjectSamples.push(await sample(subject, connections, seconds));
  }
  const bad = [...baselineSamples, ...subjectSamples].reduce((n, s) => n + s.non2xx + s.errors, 0);
  if (bad > 0) throw new Error(`${bad} requests failed during the ${label} run`);
  const b = summarise(baselineSamples);
  const s = summarise(subjectSamples);
  return { baseline: b, subject: s, throughputRatio: round(s.requestsPerSecond / b.requestsPerSecond, 3) };
}
