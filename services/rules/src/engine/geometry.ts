import type { Box } from '@sie/contracts';
import { cross, polygonDefect, segmentsIntersect } from '@sie/pipeline';
import type { Point } from '@sie/pipeline';

export { cross, polygonDefect, segmentsIntersect };
export type { Point };

/**
 * Where an object "is" for zones and lines: the bottom-centre of its box, normalized by the frame
 * size. For people and vehicles seen from above at an angle that is where they touch the ground,
 * so a zone drawn on the floor contains the people standing on it even when their heads are
 * outside it.
 */
export function referencePoint(box: Box, width: number, height: number): Point {
  return [(box.x1 + box.x2) / 2 / width, box.y2 / height];
}

/** Box area as a fraction of the frame area (what `params.minBoxArea` compares against). */
export function normalizedArea(box: Box, width: number, height: number): number {
  return (Math.max(0, box.x2 - box.x1) * Math.max(0, box.y2 - box.y1)) / (width * height);
}

/** Even-odd ray casting; polygons are simple (validated), so even-odd and non-zero agree. */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

/**
 * Signed distance (normalized units) of p from the infinite line through a→b. Positive means p is
 * on the RIGHT of a→b as seen on screen (x right, y down), negative on the left. A crossing
 * "A→B" (`a_to_b`) goes from the left side to the right side: for a line drawn from left to
 * right (a west of b), that is moving downwards on screen.
 */
export function signedDistance(p: Point, a: Point, b: Point): number {
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  return cross(a, b, p) / len;
}
