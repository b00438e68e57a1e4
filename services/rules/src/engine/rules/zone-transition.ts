import type { Point } from '../geometry.js';
import { pointInPolygon } from '../geometry.js';
import type { RuleConfig } from '../types.js';
import { Cooldowns, nameOf, objectFilter } from './filter.js';
import type { Firing, Observation, RuleEvaluator, RuleFrame } from './types.js';

interface State {
  inside: [number, boolean][];
  cooldowns: [string, number][];
}

/**
 * zone_enter / zone_exit, per track. A track first seen inside the zone has entered it (it
 * appeared there), and a track dropped by the tracker while inside has left it, so enters and
 * exits of a track always pair up. A track that is lost (not seen) keeps its last side, so a
 * short occlusion is neither an exit nor a new entry. The cooldown is per track.
 */
export class ZoneTransitionRule implements RuleEvaluator {
  readonly id: string;
  readonly kind: 'zone_enter' | 'zone_exit';
  private inside = new Map<number, boolean>();
  private readonly cooldowns: Cooldowns;
  private readonly accepts: (o: Observation) => boolean;

  constructor(
    rule: RuleConfig & { kind: 'zone_enter' | 'zone_exit' },
    private readonly zoneId: string,
    private readonly polygon: Point[],
    minBoxArea: number,
  ) {
    this.id = rule.id;
    this.kind = rule.kind;
    this.cooldowns = new Cooldowns(rule.cooldownMs);
    this.accepts = objectFilter(rule, minBoxArea);
  }

  evaluate(frame: RuleFrame): Firing[] {
    const out: Firing[] = [];
    const seen = frame.visible.filter(this.accepts);
    const inZone = seen.filter((o) => pointInPolygon(o.point, this.polygon));
    const counts = { inside: inZone.length };
    const entering = this.kind === 'zone_enter';
    for (const o of seen) {
      const now = pointInPolygon(o.point, this.polygon);
      const before = this.inside.get(o.trackId);
      this.inside.set(o.trackId, now);
      const changed = before === undefined ? now : before !== now;
      if (!changed || now !== entering) continue;
      if (!this.cooldowns.take(String(o.trackId), frame.timeMs)) continue;
      out.push({
        trackIds: [o.trackId],
        objects: [o.det],
        counts,
        message: `${nameOf(o)} ${entering ? 'entered' : 'left'} zone ${this.zoneId}`,
      });
    }
    for (const r of frame.removed) {
      const wasInside = this.inside.get(r.trackId) === true;
      this.inside.delete(r.trackId);
      if (!entering && wasInside && this.cooldowns.take(String(r.trackId), frame.timeMs)) {
        out.push({
          trackIds: [r.trackId],
          objects: [r.last],
          counts,
          message: `${nameOf({ trackId: r.trackId, det: r.last })} left zone ${this.zoneId} (track lost)`,
        });
      }
      this.cooldowns.forgetTrack(r.trackId);
    }
    return out;
  }

  snapshot(): State {
    return { inside: [...this.inside], cooldowns: this.cooldowns.snapshot() };
  }

  restore(state: unknown): void {
    const s = state as State;
    this.inside = new Map(s.inside);
    this.cooldowns.restore(s.cooldowns);
  }
}
