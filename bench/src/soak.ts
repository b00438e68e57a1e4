/**
 * The soak: the stack held at 70 % of its measured capacity for a long time, sampled every few
 * seconds, to show that latency stays flat, memory does not grow and nothing crashes.
 */

export interface SoakSample {
  /** Seconds since the soak window started. */
  tS: number;
  /** Detections per second over the last interval, all streams. */
  fps: number;
  /** Capture → encoder (render histogram) over the last interval; NaN without render. */
  e2eP50Ms: number;
  e2eP99Ms: number;
  /** Capture → detections (FrameDetections.latencyMs) over the last interval. */
  detP50Ms: number;
  detP99Ms: number;
  /** Every stack process with its children. */
  rssMB: number;
  rssByProcessMB: Record<string, number>;
  /** Stack processes gone so far plus runs that failed. */
  crashes: number;
}

export interface SoakSummary {
  firstThirdP50Ms: number;
  lastThirdP50Ms: number;
  /** RSS of the last minute ÷ RSS of the first minute − 1. */
  rssGrowth: number;
  crashes: number;
}

export interface SoakResult {
  minutes: number;
  streams: number;
  /** Frames per second offered per stream and in all. */
  rateFps: number;
  offeredFps: number;
  capacityFps: number;
  samples: SoakSample[];
  summary: SoakSummary;
}

function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v[Math.floor((v.length - 1) / 2)] as number;
}

/** The numbers the soak targets are judged by, from the samples. */
export function summarizeSoak(samples: readonly SoakSample[]): SoakSummary {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const latency = (s: SoakSample): number =>
    Number.isFinite(s.e2eP50Ms) ? s.e2eP50Ms : s.detP50Ms;
  const first = samples.slice(0, third).map(latency);
  const last = samples.slice(-third).map(latency);
  const end = samples.at(-1)?.tS ?? 0;
  const firstMinute = samples.filter((s) => s.tS <= 60).map((s) => s.rssMB);
  const lastMinute = samples.filter((s) => s.tS >= end - 60).map((s) => s.rssMB);
  const r0 = median(firstMinute);
  const r1 = median(lastMinute);
  return {
    firstThirdP50Ms: median(first),
    lastThirdP50Ms: median(last),
    rssGrowth: r0 > 0 ? r1 / r0 - 1 : Number.NaN,
    crashes: samples.at(-1)?.crashes ?? 0,
  };
}
