export interface Pair {
  track: number;
  det: number;
  score: number;
}

/**
 * Greedy one-to-one assignment, best IoU first. Ties break on track index then detection index
 * so the same input always gives the same assignment (a snapshot/restore must replay exactly).
 */
export function greedyMatch(candidates: Pair[]): Pair[] {
  const sorted = [...candidates].sort(
    (x, y) => y.score - x.score || x.track - y.track || x.det - y.det,
  );
  const usedTracks = new Set<number>();
  const usedDets = new Set<number>();
  const out: Pair[] = [];
  for (const p of sorted) {
    if (usedTracks.has(p.track) || usedDets.has(p.det)) continue;
    usedTracks.add(p.track);
    usedDets.add(p.det);
    out.push(p);
  }
  return out;
}
