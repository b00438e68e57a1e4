import type { Detection } from '@sie/contracts';
import type { PipelineConfig } from '@sie/pipeline';

/** The rules part of a pipeline the engine runs. */
export type RulesConfig = Pick<PipelineConfig, 'zones' | 'lines' | 'rules'>;
export type RuleConfig = RulesConfig['rules'][number];
export type RuleKind = RuleConfig['kind'];

/** One frame's detections; `captureTimeMs` is the only clock the engine reads. */
export interface EngineFrame {
  seq: number;
  captureTimeMs: number;
  width: number;
  height: number;
  detections: Detection[];
}

export interface EngineEvent {
  /**
   * `${runId}.${ruleId}.${frameSeq}.${n}`: deterministic, so a restarted run that re-emits an
   * event produces the same id and the stream's dedup drops it.
   */
  id: string;
  ruleId: string;
  kind: RuleKind;
  captureTimeMs: number;
  frameSeq: number;
  trackIds: number[];
  objects: Detection[];
  counts: Record<string, number>;
  message: string;
}

export interface ZoneState {
  id: string;
  polygon: [number, number][];
  /** Tracked objects of any class whose reference point is inside, in this frame. */
  count: number;
}

export interface LineState {
  id: string;
  a: [number, number];
  b: [number, number];
  /** Crossings by tracked objects of any class since the run started (see geometry.ts for A→B). */
  countAB: number;
  countBA: number;
}

export interface EngineOutput {
  /** The frame's detections in input order, `trackId` set (0 for detections no track took). */
  tracked: Detection[];
  events: EngineEvent[];
  zones: ZoneState[];
  lines: LineState[];
  /** Tracks that triggered an event in this frame, ascending. */
  highlightTrackIds: number[];
  /** Set when the frame was not newer than the last one processed and so was ignored. */
  stale?: true;
}

/** JSON-serializable state of a run: tracks, rule timers and counters, last-fired times. */
export type EngineSnapshot = { version: 1; [k: string]: unknown };
