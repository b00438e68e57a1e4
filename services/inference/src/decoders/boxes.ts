import type { DecodeOptions, RawDetection } from './types.js';

/**
 * Network-space boxes in original image pixels: the letterbox undone (offset, then ratio),
 * clipped to the image; boxes left with no area are dropped. Keeps the order.
 */
export function toImagePixels(dets: readonly RawDetection[], o: DecodeOptions): RawDetection[] {
  const out: RawDetection[] = [];
  for (const d of dets) {
    const x1 = clamp((d.x1 - o.padX) / o.ratio, o.imageWidth);
    const y1 = clamp((d.y1 - o.padY) / o.ratio, o.imageHeight);
    const x2 = clamp((d.x2 - o.padX) / o.ratio, o.imageWidth);
    const y2 = clamp((d.y2 - o.padY) / o.ratio, o.imageHeight);
    if (x2 > x1 && y2 > y1) out.push({ classId: d.classId, score: d.score, x1, y1, x2, y2 });
  }
  return out;
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}

/** A box from centre and size. */
export function fromCenter(
  classId: number,
  score: number,
  cx: number,
  cy: number,
  w: number,
  h: number,
): RawDetection {
  return { classId, score, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 };
}

/**
 * Index of the best allowed class among `classes` scores starting at `out[offset]` (-1 when the
 * mask allows none). Shared by the YOLOX and YOLOv5 heads, whose rows end in class scores.
 */
export function bestClass(
  out: Float32Array,
  offset: number,
  classes: number,
  mask: Uint8Array | null,
): number {
  let best = -1;
  let bestP = -Infinity;
  for (let k = 0; k < classes; k++) {
    if (mask && mask[k] !== 1) continue;
    const p = out[offset + k] as number;
    if (p > bestP) {
      bestP = p;
      best = k;
    }
  }
  return best;
}
