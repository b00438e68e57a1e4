/**
 * Percentiles from the growth of a Prometheus histogram between two scrapes: what a service
 * observed during a window, at its buckets' resolution (linear inside a bucket, as Prometheus'
 * histogram_quantile does).
 */
import type { MetricSample } from './prometheus.js';

/** p50/p90/p99 of a set of values (or of a histogram's growth), with its mean, max and size. */
export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  samples: number;
}

type Where = (labels: Record<string, string>) => boolean;

/** Cumulative counts by upper bound (summed over the series `where` keeps), plus sum and count. */
function read(samples: readonly MetricSample[], name: string, where: Where) {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const s of samples) {
    if (!where(s.labels)) continue;
    if (s.name === `${name}_bucket`) {
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    } else if (s.name === `${name}_sum`) sum += s.value;
    else if (s.name === `${name}_count`) count += s.value;
  }
  return { buckets, sum, count };
}

/** The distribution of what `name` observed between scrape `a` and scrape `b`. */
export function histogramDistribution(
  a: readonly MetricSample[],
  b: readonly MetricSample[],
  name: string,
  where: Where = () => true,
): Distribution {
  const x = read(a, name, where);
  const y = read(b, name, where);
  const bounds = [...y.buckets.keys()].sort((p, q) => p - q);
  const cumulative = bounds.map((le) => (y.buckets.get(le) ?? 0) - (x.buckets.get(le) ?? 0));
  const count = y.count - x.count;
  const quantile = (q: number): number => {
    if (count <= 0) return Number.NaN;
    const rank = q * count;
    for (let i = 0; i < bounds.length; i++) {
      const c = cumulative[i] as number;
      if (c >= rank) {
        const upper = bounds[i] as number;
        const lower = i > 0 ? (bounds[i - 1] as number) : 0;
        const below = i > 0 ? (cumulative[i - 1] as number) : 0;
        // Past the last finite bucket there is nothing to interpolate to: report its bound.
        if (!Number.isFinite(upper)) return lower;
        const inBucket = c - below;
        return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
      }
    }
    return Number.NaN;
  };
  let max = Number.NaN;
  for (let i = bounds.length - 1; i >= 0; i--) {
    const below = i > 0 ? (cumulative[i - 1] as number) : 0;
    if ((cumulative[i] as number) > below) {
      max = bounds[i] as number;
      break;
    }
  }
  return {
    p50: quantile(0.5),
    p90: quantile(0.9),
    p99: quantile(0.99),
    mean: count > 0 ? (y.sum - x.sum) / count : Number.NaN,
    max,
    samples: count,
  };
}
