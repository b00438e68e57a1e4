/**
 * The performance targets of DESIGN.md checked against one run's numbers. Every target compares
 * the pipeline with the floor measured in the same run on the same machine.
 */
import type { FloorResult } from './floor.js';
import type { PointResult } from './pipeline.js';

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null when the run has no number to check it with. */
  pass: boolean | null;
}

export function checkTargets(floor: FloorResult | null, points: PointResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const thr = points.filter((p) => p.mode === 'throughput');
  const best = thr.reduce<PointResult | null>(
    (a, p) => (a === null || p.aggregateFps > a.aggregateFps ? p : a),
    null,
  );
  if (floor && best) {
    const bare = floor.floors.bare.cpuMs;
    const sat = (0.8 * floor.cores * 1000) / bare;
    out.push({
      name: 'saturation throughput',
      target: `≥ 0.8 × ${floor.cores} cores ÷ bare floor ${bare.toFixed(1)} ms = ${sat.toFixed(1)} fps`,
      measured: `${best.aggregateFps.toFixed(1)} fps (N=${best.streams})`,
      pass: best.aggregateFps >= sat,
    });
    const raw = floor.raw.parallelRun;
    out.push({
      name: 'overhead vs ORT alone',
      target: `≥ 0.8 × raw ORT ${raw.fps.toFixed(1)} fps (${raw.workers} sessions × 1 thread) = ${(0.8 * raw.fps).toFixed(1)} fps`,
      measured: `${best.aggregateFps.toFixed(1)} fps = ${(best.aggregateFps / raw.fps).toFixed(2)} ×`,
      pass: best.aggregateFps >= 0.8 * raw.fps,
    });
  }
  for (const p of thr) {
    if (p.efficiency === null) continue;
    out.push({
      name: `efficiency, N=${p.streams}`,
      target: '≥ 0.80 (bare floor CPU/frame ÷ stack CPU/frame)',
      measured: `${p.efficiency.toFixed(2)} (${(p.efficiencyVsEngineFloor ?? Number.NaN).toFixed(2)} vs engine floor)`,
      pass: p.efficiency >= 0.8,
    });
  }
  const at70 = points.find((p) => p.label.startsWith('live70'));
  if (floor && at70) {
    const single = floor.inference.sessionRun.p50Ms;
    const load = at70.offeredFps !== null && best ? at70.offeredFps / best.aggregateFps : null;
    const loadText = load === null ? '' : ` at ${(load * 100).toFixed(0)} % load`;
    out.push({
      name: 'latency p50 at 70 % load',
      target: `≤ 2 × single inference ${single.toFixed(1)} ms = ${(2 * single).toFixed(1)} ms`,
      measured: `${at70.latencyMs.p50.toFixed(1)} ms${loadText}`,
      pass: at70.latencyMs.p50 <= 2 * single,
    });
    out.push({
      name: 'latency p99 at 70 % load',
      target: `≤ 4 × single inference = ${(4 * single).toFixed(1)} ms`,
      measured: `${at70.latencyMs.p99.toFixed(1)} ms${loadText}`,
      pass: at70.latencyMs.p99 <= 4 * single,
    });
  }
  return out;
}
