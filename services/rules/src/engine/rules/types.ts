import type { Detection } from '@sie/contracts';
import type { Point } from '../geometry.js';
import type { RuleKind } from '../types.js';

/** A track seen in this frame, with what the rules need precomputed. */
export interface Observation {
  trackId: number;
  det: Detection;
  /** Reference point (bottom-centre, normalized). */
  point: Point;
  /** Box area as a fraction of the frame. */
  area: number;
}

export interface RuleFrame {
  seq: number;
  timeMs: number;
  /** Tracks seen in this frame, ascending by track id. */
  visible: Observation[];
  /** Tracks the tracker dropped in this frame, ascending by track id. */
  removed: { trackId: number; last: Detection }[];
}

/** What a rule reports when it fires; the engine turns it into an event with an id. */
export interface Firing {
  trackIds: number[];
  objects: Detection[];
  counts: Record<string, number>;
  message: string;
}

/** One configured rule with its own state; the engine calls `evaluate` once per frame. */
export interface RuleEvaluator {
  readonly id: string;
  readonly kind: RuleKind;
  evaluate(frame: RuleFrame): Firing[];
  /** JSON-serializable state (timers, counters, last-fired times). */
  snapshot(): unknown;
  restore(state: unknown): void;
}
