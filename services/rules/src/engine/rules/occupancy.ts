import type { Point } from '../geometry.js';
import { pointInPolygon } from '../geometry.js';
import type { RuleConfig } from '../types.js';
import { objectFilter } from './filter.js';
import type { Firing, Observation, RuleEvaluator, RuleFrame } from './types.js';

interface State {
  armed: boolean;
  /** While armed: when the condition became (and stayed) true. */
  trueSinceMs: number | null;
  /** While fired: when the condition became (and stayed) false. */
  falseSinceMs: number | null;
  lastFiredMs: number | null;
}

/**
 * occupancy: the number of the rule's objects inside the zone is ≥ (`gte`) or ≤ (`lte`) `count`
 * for at least `seconds`. Fires once, then re-arms only after the condition has been false for
 * `rearmSeconds` (default `seconds`): a count hovering at the threshold fires once, not on every
 * flicker. The cooldown is per rule (the rule is about the zone, not one track).
 */
export class OccupancyRule implements RuleEvaluator {
  readonly id: string;
  readonly kind = 'occupancy' as const;
  private s: State = { armed: true, trueSinceMs: null, falseSinceMs: null, lastFiredMs: null };
  private readonly accepts: (o: Observation) => boolean;
  private readonly holdMs: number;
  private readonly rearmMs: number;
  private readonly cooldownMs: number;

  constructor(
    rule: RuleConfig,
    private readonly zoneId: string,
    private readonly polygon: Point[],
    private readonly params: {
      op: 'gte' | 'lte';
      count: number;
      seconds: number;
      rearmSeconds?: number | undefined;
      minBoxArea: number;
    },
  ) {
    this.id = rule.id;
    this.accepts = objectFilter(rule, params.minBoxArea);
    this.holdMs = params.seconds * 1000;
    this.rearmMs = (params.rearmSeconds ?? params.seconds) * 1000;
    this.cooldownMs = rule.cooldownMs;
  }

  evaluate(frame: RuleFrame): Firing[] {
    const t = frame.timeMs;
    const inside = frame.visible
      .filter(this.accepts)
      .filter((o) => pointInPolygon(o.point, this.polygon));
    const n = inside.length;
    const { op, count } = this.params;
    const holds = op === 'gte' ? n >= count : n <= count;
    const s = this.s;
    if (!s.armed) {
      if (holds) s.falseSinceMs = null;
      else {
        s.falseSinceMs ??= t;
        if (t - s.falseSinceMs >= this.rearmMs) {
          s.armed = true;
          s.trueSinceMs = null;
          s.falseSinceMs = null;
        }
      }
      return [];
    }
    if (!holds) {
      s.trueSinceMs = null;
      return [];
    }
    s.trueSinceMs ??= t;
    const heldMs = t - s.trueSinceMs;
    if (heldMs < this.holdMs) return [];
    if (this.cooldownMs > 0 && s.lastFiredMs !== null && t - s.lastFiredMs < this.cooldownMs) {
      return [];
    }
    s.armed = false;
    s.falseSinceMs = null;
    s.lastFiredMs = t;
    return [
      {
        trackIds: inside.map((o) => o.trackId),
        objects: inside.map((o) => o.det),
        counts: { inside: n, heldMs },
        message: `zone ${this.zoneId} has held ${n} (${op === 'gte' ? '≥' : '≤'} ${count}) for ${(heldMs / 1000).toFixed(1)} s`,
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
