import type { Detection } from '@sie/contracts';
import type { EngineFrame, RulesConfig } from './types.js';

/** Test helpers: a 1000×1000 frame so pixels are normalized coordinates × 1000. */
export const SIZE = 1000;

/** A detection whose reference point (bottom-centre) is at normalized (x, y). */
export function at(
  x: number,
  y: number,
  o: { label?: string; classId?: number; score?: number; w?: number; h?: number } = {},
): Detection {
  const w = o.w ?? 160;
  const h = o.h ?? 200;
  const cx = x * SIZE;
  const by = y * SIZE;
  return {
    classId: o.classId ?? 0,
    label: o.label ?? 'person',
    score: o.score ?? 0.9,
    box: { x1: cx - w / 2, y1: by - h, x2: cx + w / 2, y2: by },
    trackId: 0,
  };
}

/** Frame `seq` at `fps` frames per second (capture time from 0). */
export function frame(seq: number, detections: Detection[], fps = 10): EngineFrame {
  return { seq, captureTimeMs: ((seq - 1) * 1000) / fps, width: SIZE, height: SIZE, detections };
}

export const square: [number, number][] = [
  [0.4, 0.4],
  [0.6, 0.4],
  [0.6, 0.6],
  [0.4, 0.6],
];

/** A config with zone `z` (the square 0.4–0.6) and a horizontal line `l` at y = 0.5, a left of b. */
export function config(rules: Partial<RulesConfig['rules'][number]>[]): RulesConfig {
  return {
    zones: [{ id: 'z', polygon: square }],
    lines: [{ id: 'l', a: [0.1, 0.5], b: [0.9, 0.5] }],
    rules: rules.map((r, i) => ({
      id: `r${i}`,
      kind: 'zone_enter',
      classes: [],
      minScore: 0,
      cooldownMs: 0,
      params: {},
      ...r,
    })),
  };
}
