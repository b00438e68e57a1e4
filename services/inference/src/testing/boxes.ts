import type { Detection } from '@sie/contracts';
import { iou } from '../decoders/nms.js';

export type Xyxy = [number, number, number, number];

/** IoU of a detection's box with an [x1, y1, x2, y2] reference. */
export function iouWith(d: Detection, ref: Xyxy): number {
  const b = d.box ?? { x1: 0, y1: 0, x2: 0, y2: 0 };
  return iou(b, { x1: ref[0], y1: ref[1], x2: ref[2], y2: ref[3] });
}

/** The detection of `label` that best overlaps `ref`, or undefined. */
export function bestMatch(dets: Detection[], label: string, ref: Xyxy): Detection | undefined {
  let best: Detection | undefined;
  for (const d of dets) {
    if (d.label !== label) continue;
    if (!best || iouWith(d, ref) > iouWith(best, ref)) best = d;
  }
  return best;
}
