export interface BoxLike {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function iou(a: BoxLike, b: BoxLike): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression within each class (torchvision's batched_nms, as YOLOX uses):
 * highest score first, a box is dropped when it overlaps a kept box of its class by more than
 * `iouThreshold`. Sorts `dets` in place; returns the kept ones, best first, at most `maxKeep`
 * (0 = no limit).
 */
export function nmsPerClass<T extends BoxLike & { classId: number; score: number }>(
  dets: T[],
  iouThreshold: number,
  maxKeep = 0,
): T[] {
  dets.sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const d of dets) {
    let suppressed = false;
    for (const k of kept) {
      if (k.classId === d.classId && iou(k, d) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept.push(d);
    if (maxKeep > 0 && kept.length >= maxKeep) break;
  }
  return kept;
}
