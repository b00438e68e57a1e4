/**
 * The performance targets of issue 7 checked against one run's numbers. Every target compares
 * the pipeline with the floor measured in the same run on the same machine.
 */
import type { FloorResult } from './floor.js';
import type { PointResult } from './pipeline.js';
import type { SoakResult } from './soak.js';

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null when the run has no number to check it with. */
  pass: boolean | null;
}

/** The latency a point is judged by: capture → encoder when render ran, else → detections. */
export function judgedLatency(p: PointResult): { p50: number; p99: number; what: string } {
  if (p.e2eLatencyMs && p.e2eLatencyMs.samples > 0) {
    return { p50: p.e2eLatencyMs.p50, p99: p.e2eLatencyMs.p99, what: 'capture→encoder' };
  }
  return { p50: p.latencyMs.p50, p99: p.latencyMs.p99, what: 'capture→detections' };
}

export function checkTargets(
  floor: FloorResult | null,
  points: PointResult[],
  soak: SoakResult | null = null,
): TargetCheck[] {
  const out: TargetCheck[] = [];
  const best = points.reduce<PointResult | null>(
    (a, p) => (a === null || p.aggregateFps > a.aggregateFps ? p : a),
    null,
  );
  if (floor && best) {
    const f = floor.floors.target.cpuMs;
    const sat = (0.8 * floor.cores * 1000) / f;
    out.push({
      name: 'saturation throughput',
      target: `≥ 0.8 × ${floor.cores} cores ÷ floor ${f.toFixed(1)} ms = ${sat.toFixed(1)} fps`,
      measured: `${best.aggregateFps.toFixed(1)} fps (${best.label})`,
      pass: best.aggregateFps >= sat,
    });
  }
  for (const p of points) {
    if (p.efficiency === null || p.label.startsWith('live70')) continue;
    out.push({
      name: `efficiency, ${p.label}`,
      target:
        p.floorCpuMs === null || p.floorCpuMs === undefined
          ? '≥ 0.80 (floor CPU/frame ÷ stack CPU/frame)'
          : `≥ 0.80 (floor ${p.floorCpuMs.toFixed(1)} ms${p.mode === 'rtsp' ? ', camera H.264' : ''} ÷ stack CPU/frame)`,
      measured: p.efficiency.toFixed(2),
      pass: p.efficiency >= 0.8,
    });
  }
  const at70 = points.find((p) => p.label.startsWith('live70'));
  if (floor && at70) {
    const single = floor.singleFrameMs;
    const lat = judgedLatency(at70);
    const load = at70.offeredFps !== null && best ? at70.offeredFps / best.aggregateFps : null;
    const loadText = load === null ? '' : ` at ${(load * 100).toFixed(0)} % load`;
    out.push({
      name: 'latency p50 at 70 % load',
      target: `≤ 3 × single-frame floor ${single.toFixed(1)} ms = ${(3 * single).toFixed(1)} ms`,
      measured: `${lat.p50.toFixed(1)} ms ${lat.what}${loadText}`,
      pass: lat.p50 <= 3 * single,
    });
    out.push({
      name: 'latency p99 at 70 % load',
      target: `≤ 6 × single-frame floor = ${(6 * single).toFixed(1)} ms`,
      measured: `${lat.p99.toFixed(1)} ms ${lat.what}${loadText}`,
      pass: lat.p99 <= 6 * single,
    });
  }
  if (soak) {
    out.push({
      name: 'soak: flat latency',
      target: 'p50 of the last third ≤ 1.25 × p50 of the first third',
      measured: `${soak.summary.firstThirdP50Ms.toFixed(1)} → ${soak.summary.lastThirdP50Ms.toFixed(1)} ms`,
      pass: soak.summary.lastThirdP50Ms <= 1.25 * soak.summary.firstThirdP50Ms,
    });
    out.push({
      name: 'soak: RSS growth',
      target: '< 5 % (stack RSS, last minute vs the first minute after warm-up)',
      measured: `${(soak.summary.rssGrowth * 100).toFixed(1)} %`,
      pass: soak.summary.rssGrowth < 0.05,
    });
    out.push({
      name: 'soak: crashes',
      target: '0 (stack processes that exited, runs that failed)',
      measured: String(soak.summary.crashes),
      pass: soak.summary.crashes === 0,
    });
  }
  return out;
}
