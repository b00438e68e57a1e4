import type { Point } from '../geometry.js';
import { pointInPolygon } from '../geometry.js';
import type { RuleConfig } from '../types.js';
import { objectFilter } from './filter.js';
import type { Firing, Observation, RuleEvaluator, RuleFrame } from './types.js';

interface State {
  armed: boolean;
  /** While armed: since when the zone has held none of the rule's objects. */
  emptySinceMs: number | null;
  lastFiredMs: number | null;
}

/**
 * absence: none of the rule's objects inside the zone for at least `seconds` (counted from the
 * first frame of the run when the zone starts empty). Fires once and re-arms as soon as one of
 * them is seen in the zone again. The cooldown is per rule.
 */
export class AbsenceRule implements RuleEvaluator {
  readonly id: string;
  readonly kind = 'absence' as const;
  private s: State = { armed: true, emptySinceMs: null, lastFiredMs: null };
  private readonly accepts: (o: Observation) => boolean;
  private readonly holdMs: number;
  private readonly cooldownMs: number;

  constructor(
    rule: RuleConfig,
    private readonly zoneId: string,
    private readonly polygon: Point[],
    params: { seconds: number; minBoxArea: number },
  ) {
    this.id = rule.id;
    this.accepts = objectFilter(rule, params.minBoxArea);
    this.holdMs = params.seconds * 1000;
    this.cooldownMs = rule.cooldownMs;
  }

  evaluate(frame: RuleFrame): Firing[] {
    const t = frame.timeMs;
    const present = frame.visible
      .filter(this.accepts)
      .some((o) => pointInPolygon(o.point, this.polygon));
    const s = this.s;
    if (present) {
      s.armed = true;
      s.emptySinceMs = null;
      return [];
    }
    if (!s.armed) return [];
    s.emptySinceMs ??= t;
    const absentMs = t - s.emptySinceMs;
    if (absentMs < this.holdMs) return [];
    if (this.cooldownMs > 0 && s.lastFiredMs !== null && t - s.lastFiredMs < this.cooldownMs) {
      return [];
    }
    s.armed = false;
    s.lastFiredMs = t;
    return [
      {
        trackIds: [],
        objects: [],
        counts: { inside: 0, absentMs },
        message: `zone ${this.zoneId} has been empty for ${(absentMs / 1000).toFixed(1)} s`,
      },
    ];
  }

  snapshot(): State {
    return { ...this.s };
  }

  restore(state: unknown): void {
    this.s = { ...(state as State) };
  }
}
