import { performance } from 'node:perf_hooks';

/** Progress lines go to stderr so that stdout holds only the tables. */
export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wall-clock time in Unix epoch milliseconds with sub-millisecond resolution (as ingest stamps). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU seconds (user + system) this process has used, all threads, from getrusage. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Rounds for the JSON file: numbers keep 4 significant decimals, NaN becomes null. */
export function round(value: number, digits = 4): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
