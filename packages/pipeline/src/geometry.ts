/** A point in normalized frame coordinates: x right, y down, both 0–1. */
export type Point = readonly [number, number];

/** Twice the signed area of triangle (a, b, c); with y down, > 0 means c is right of a→b on screen. */
export function cross(a: Point, b: Point, c: Point): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

function onSegment(a: Point, b: Point, p: Point): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] &&
    p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] &&
    p[1] <= Math.max(a[1], b[1])
  );
}

/** Whether segments p1–p2 and q1–q2 share at least one point (touching counts). */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const d1 = Math.sign(cross(q1, q2, p1));
  const d2 = Math.sign(cross(q1, q2, p2));
  const d3 = Math.sign(cross(p1, p2, q1));
  const d4 = Math.sign(cross(p1, p2, q2));
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  // Collinear or endpoint-touching cases: an endpoint lies on the other segment.
  if (d1 === 0 && onSegment(q1, q2, p1)) return true;
  if (d2 === 0 && onSegment(q1, q2, p2)) return true;
  if (d3 === 0 && onSegment(p1, p2, q1)) return true;
  if (d4 === 0 && onSegment(p1, p2, q2)) return true;
  return false;
}

/** Twice the signed area of a polygon (shoelace). */
export function polygonArea2(polygon: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % polygon.length]!;
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s;
}

/**
 * Why a polygon is not simple, or null when it is. Point-in-polygon and "inside" counts only mean
 * something for a simple polygon: a bow-tie has a region that is inside by one rule and outside by
 * another, so such polygons are refused at pipeline creation rather than interpreted.
 */
export function polygonDefect(polygon: readonly Point[]): string | null {
  const n = polygon.length;
  if (n < 3) return 'a polygon needs at least 3 points';
  for (let i = 0; i < n; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % n]!;
    if (a[0] === b[0] && a[1] === b[1]) return `points ${i} and ${(i + 1) % n} are the same`;
  }
  for (let i = 0; i < n; i++) {
    const a1 = polygon[i]!;
    const a2 = polygon[(i + 1) % n]!;
    for (let j = i + 1; j < n; j++) {
      const b1 = polygon[j]!;
      const b2 = polygon[(j + 1) % n]!;
      const adjacent = j === i + 1 || (i === 0 && j === n - 1);
      if (adjacent) {
        // Neighbours share a vertex; they are only a defect when they fold back over each other.
        const shared = j === i + 1 ? a2 : a1;
        const farA = j === i + 1 ? a1 : a2;
        const farB = j === i + 1 ? b2 : b1;
        if (
          cross(farA, shared, farB) === 0 &&
          (onSegment(shared, farA, farB) || onSegment(shared, farB, farA))
        ) {
          return `edges ${i} and ${j} overlap`;
        }
      } else if (segmentsIntersect(a1, a2, b1, b2)) {
        return `edges ${i} and ${j} cross (the polygon intersects itself)`;
      }
    }
  }
  // Checked last: a symmetric bow-tie also has zero signed area, and "intersects itself" says more.
  if (polygonArea2(polygon) === 0) return 'the polygon has no area';
  return null;
}
