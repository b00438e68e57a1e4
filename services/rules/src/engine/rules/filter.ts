import type { RuleConfig } from '../types.js';
import type { Observation } from './types.js';

/**
 * A rule's object filter: class (by label or numeric class id; empty keeps every class),
 * minimum score and minimum box area. An observation the filter rejects is, for that rule, not
 * there in that frame: it changes no state, so a score dipping below `minScore` for one frame
 * neither exits nor re-enters a zone.
 */
export function objectFilter(
  rule: Pick<RuleConfig, 'classes' | 'minScore'>,
  minBoxArea: number,
): (o: Observation) => boolean {
  const classes = new Set(rule.classes);
  return (o) =>
    (classes.size === 0 || classes.has(o.det.label) || classes.has(String(o.det.classId))) &&
    o.det.score >= rule.minScore &&
    o.area >= minBoxArea;
}

/** Last-fired times per key (track, or track and direction), for per-track cooldowns. */
export class Cooldowns {
  private last = new Map<string, number>();
  constructor(private readonly ms: number) {}

  /** True (and records the time) when `key` may fire at `timeMs`. */
  take(key: string, timeMs: number): boolean {
    const prev = this.last.get(key);
    if (this.ms > 0 && prev !== undefined && timeMs - prev < this.ms) return false;
    this.last.set(key, timeMs);
    return true;
  }

  /** Forget a dropped track (ids are never reused, so this only bounds memory). */
  forgetTrack(trackId: number): void {
    for (const k of [...this.last.keys()]) {
      if (k === String(trackId) || k.startsWith(`${trackId}:`)) this.last.delete(k);
    }
  }

  snapshot(): [string, number][] {
    return [...this.last];
  }

  restore(entries: [string, number][]): void {
    this.last = new Map(entries);
  }
}

export function nameOf(o: { trackId: number; det: { label: string } }): string {
  return `track ${o.trackId}${o.det.label ? ` (${o.det.label})` : ''}`;
}
