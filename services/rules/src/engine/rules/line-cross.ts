import { CrossingDetector } from '../crossing.js';
import type { Direction } from '../crossing.js';
import type { Point } from '../geometry.js';
import type { RuleConfig } from '../types.js';
import { Cooldowns, nameOf, objectFilter } from './filter.js';
import type { Firing, Observation, RuleEvaluator, RuleFrame } from './types.js';

interface State {
  crossing: ReturnType<CrossingDetector['snapshot']>;
  cooldowns: [string, number][];
  counts: { a_to_b: number; b_to_a: number };
}

/**
 * line_cross: counts crossings of the rule's objects in both directions (running counts in every
 * event) and fires for the configured direction. Jitter is handled by the crossing hysteresis
 * (`minDistance`), and the cooldown counts a track at most once per direction per `cooldownMs`.
 */
export class LineCrossRule implements RuleEvaluator {
  readonly id: string;
  readonly kind = 'line_cross' as const;
  private readonly crossing: CrossingDetector;
  private readonly cooldowns: Cooldowns;
  private readonly accepts: (o: Observation) => boolean;
  private readonly fires: (d: Direction) => boolean;
  private counts = { a_to_b: 0, b_to_a: 0 };

  constructor(
    rule: RuleConfig,
    private readonly lineId: string,
    a: Point,
    b: Point,
    params: { direction: Direction | 'both'; minDistance: number; minBoxArea: number },
  ) {
    this.id = rule.id;
    this.crossing = new CrossingDetector(a, b, params.minDistance);
    this.cooldowns = new Cooldowns(rule.cooldownMs);
    this.accepts = objectFilter(rule, params.minBoxArea);
    this.fires = (d) => params.direction === 'both' || params.direction === d;
  }

  evaluate(frame: RuleFrame): Firing[] {
    const out: Firing[] = [];
    for (const o of frame.visible.filter(this.accepts)) {
      const dir = this.crossing.update(o.trackId, o.point);
      if (!dir || !this.cooldowns.take(`${o.trackId}:${dir}`, frame.timeMs)) continue;
      this.counts[dir] += 1;
      if (!this.fires(dir)) continue;
      out.push({
        trackIds: [o.trackId],
        objects: [o.det],
        counts: { ...this.counts },
        message: `${nameOf(o)} crossed line ${this.lineId} ${dir === 'a_to_b' ? 'A→B' : 'B→A'}`,
      });
    }
    for (const r of frame.removed) {
      this.crossing.forget(r.trackId);
      this.cooldowns.forgetTrack(r.trackId);
    }
    return out;
  }

  snapshot(): State {
    return {
      crossing: this.crossing.snapshot(),
      cooldowns: this.cooldowns.snapshot(),
      counts: { ...this.counts },
    };
  }

  restore(state: unknown): void {
    const s = state as State;
    this.crossing.restore(s.crossing);
    this.cooldowns.restore(s.cooldowns);
    this.counts = { ...s.counts };
  }
}
