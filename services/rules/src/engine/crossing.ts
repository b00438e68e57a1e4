import { segmentsIntersect, signedDistance } from './geometry.js';
import type { Point } from './geometry.js';

export type Direction = 'a_to_b' | 'b_to_a';

interface Side {
  /** -1 left of a→b, +1 right; only ever set from a point at least `minDistance` away. */
  side: -1 | 1;
  /** Where that side was last confirmed: the start of the path tested against the segment. */
  anchor: Point;
}

/**
 * Detects crossings of one line by tracks, with hysteresis: a side only counts once the reference
 * point is at least `minDistance` (normalized) from the line, and a crossing is a change of
 * confirmed side whose path (from the last confirmed point to this one) meets the segment a–b.
 * A track jittering on the line never confirms the other side, so it is counted once at most;
 * a track passing beside the segment's end changes side without crossing.
 */
export class CrossingDetector {
  private sides = new Map<number, Side>();

  constructor(
    private readonly a: Point,
    private readonly b: Point,
    private readonly minDistance: number,
  ) {}

  /** Feeds one observation of a track; returns the crossing it completes, if any. */
  update(trackId: number, p: Point): Direction | null {
    const d = signedDistance(p, this.a, this.b);
    if (Math.abs(d) < this.minDistance || d === 0) return null;
    const side: -1 | 1 = d > 0 ? 1 : -1;
    const prev = this.sides.get(trackId);
    this.sides.set(trackId, { side, anchor: p });
    if (!prev || prev.side === side) return null;
    if (!segmentsIntersect(prev.anchor, p, this.a, this.b)) return null;
    return side === 1 ? 'a_to_b' : 'b_to_a';
  }

  forget(trackId: number): void {
    this.sides.delete(trackId);
  }

  snapshot(): [number, Side][] {
    return [...this.sides].map(([k, v]) => [k, { side: v.side, anchor: [...v.anchor] }]);
  }

  restore(entries: [number, Side][]): void {
    this.sides = new Map(entries.map(([k, v]) => [k, { side: v.side, anchor: [...v.anchor] }]));
  }
}
