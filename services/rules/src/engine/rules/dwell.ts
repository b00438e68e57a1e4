import type { Point } from '../geometry.js';
import { pointInPolygon } from '../geometry.js';
import type { RuleConfig } from '../types.js';
import { Cooldowns, nameOf, objectFilter } from './filter.js';
import type { Firing, Observation, RuleEvaluator, RuleFrame } from './types.js';

interface Visit {
  sinceMs: number;
  fired: boolean;
}

interface State {
  visits: [number, Visit][];
  cooldowns: [string, number][];
}

/**
 * dwell (loitering): fires once per visit, at the first frame where the track has been inside for
 * at least `seconds` (capture time since the first frame it was seen inside). A visit ends when
 * the track is seen outside or is dropped; a lost-but-buffered track keeps its visit, so an
 * occlusion does not restart the clock. With a cooldown the firing waits until the track's
 * cooldown has passed, still within the same visit.
 */
export class DwellRule implements RuleEvaluator {
  readonly id: string;
  readonly kind = 'dwell' as const;
  private visits = new Map<number, Visit>();
  private readonly cooldowns: Cooldowns;
  private readonly accepts: (o: Observation) => boolean;
  private readonly thresholdMs: number;

  constructor(
    rule: RuleConfig,
    private readonly zoneId: string,
    private readonly polygon: Point[],
    params: { seconds: number; minBoxArea: number },
  ) {
    this.id = rule.id;
    this.cooldowns = new Cooldowns(rule.cooldownMs);
    this.accepts = objectFilter(rule, params.minBoxArea);
    this.thresholdMs = params.seconds * 1000;
  }

  evaluate(frame: RuleFrame): Firing[] {
    const out: Firing[] = [];
    const seen = frame.visible.filter(this.accepts);
    const inZone = seen.filter((o) => pointInPolygon(o.point, this.polygon));
    for (const o of seen) {
      if (!inZone.includes(o)) {
        this.visits.delete(o.trackId);
        continue;
      }
      let visit = this.visits.get(o.trackId);
      if (!visit) {
        visit = { sinceMs: frame.timeMs, fired: false };
        this.visits.set(o.trackId, visit);
      }
      const dwellMs = frame.timeMs - visit.sinceMs;
      if (visit.fired || dwellMs < this.thresholdMs) continue;
      if (!this.cooldowns.take(String(o.trackId), frame.timeMs)) continue;
      visit.fired = true;
      out.push({
        trackIds: [o.trackId],
        objects: [o.det],
        counts: { inside: inZone.length, dwellMs },
        message: `${nameOf(o)} has been in zone ${this.zoneId} for ${(dwellMs / 1000).toFixed(1)} s`,
      });
    }
    for (const r of frame.removed) {
      this.visits.delete(r.trackId);
      this.cooldowns.forgetTrack(r.trackId);
    }
    return out;
  }

  snapshot(): State {
    return {
      visits: [...this.visits].map(([k, v]) => [k, { ...v }]),
      cooldowns: this.cooldowns.snapshot(),
    };
  }

  restore(state: unknown): void {
    const s = state as State;
    this.visits = new Map(s.visits.map(([k, v]) => [k, { ...v }]));
    this.cooldowns.restore(s.cooldowns);
  }
}
