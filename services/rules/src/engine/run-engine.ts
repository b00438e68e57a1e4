import { validate } from '@sie/config';
import { InvalidArgumentError } from '@sie/errors';
import { pipelineRulesSchema } from '@sie/pipeline';
import { CrossingDetector } from './crossing.js';
import { normalizedArea, pointInPolygon, referencePoint } from './geometry.js';
import type { Point } from './geometry.js';
import { createRule } from './rules/factory.js';
import type { Observation, RuleEvaluator, RuleFrame } from './rules/types.js';
import { Tracker } from './tracker/tracker.js';
import type { TrackerSnapshot } from './tracker/tracker.js';
import type { TrackerOptions } from './tracker/options.js';
import type {
  EngineEvent,
  EngineFrame,
  EngineOutput,
  EngineSnapshot,
  LineState,
  RulesConfig,
  ZoneState,
} from './types.js';

export interface EngineOptions {
  tracker?: Partial<TrackerOptions>;
  /** Hysteresis of the overlay's line counts (every tracked object, no class filter). */
  lineMinDistance?: number;
}

interface LineCounter {
  id: string;
  a: [number, number];
  b: [number, number];
  detector: CrossingDetector;
  countAB: number;
  countBA: number;
}

interface SnapshotBody {
  version: 1;
  lastSeq: number | null;
  tracker: TrackerSnapshot;
  rules: Record<string, { kind: string; state: unknown }>;
  lines: Record<string, { countAB: number; countBA: number; detector: unknown }>;
  zoneCounts: Record<string, number>;
}

/**
 * The rules of one run: tracker, rule state, zone and line counts. Pure: time is the frames'
 * capture time only, and the whole state round-trips through `snapshot()`, so a new engine built
 * from a snapshot continues exactly as the old one would have (same events, ids and counts).
 */
export class RunEngine {
  private readonly config: RulesConfig;
  private readonly rules: RuleEvaluator[];
  private readonly lineCounters: LineCounter[];
  private readonly tracker: Tracker;
  private lastSeq: number | null = null;
  private zoneCounts = new Map<string, number>();

  constructor(
    private readonly runId: string,
    config: RulesConfig,
    snapshot?: EngineSnapshot,
    options: EngineOptions = {},
  ) {
    const { zones, lines, rules } = config;
    const checked = validate(pipelineRulesSchema, { zones, lines, rules }, 'rules');
    this.config = { zones: checked.zones, lines: checked.lines, rules: checked.rules };
    this.rules = this.config.rules.map((r) => createRule(r, this.config));
    this.lineCounters = this.config.lines.map((l) => ({
      id: l.id,
      a: l.a,
      b: l.b,
      detector: new CrossingDetector(l.a, l.b, options.lineMinDistance ?? 0.01),
      countAB: 0,
      countBA: 0,
    }));
    const body = snapshot ? readSnapshot(snapshot) : undefined;
    this.tracker = new Tracker(options.tracker, body?.tracker);
    if (body) this.restore(body);
  }

  private restore(body: SnapshotBody): void {
    this.lastSeq = body.lastSeq;
    this.zoneCounts = new Map(Object.entries(body.zoneCounts));
    // State of a rule or line that no longer exists (or changed kind) is dropped.
    for (const rule of this.rules) {
      const saved = body.rules[rule.id];
      if (saved && saved.kind === rule.kind) rule.restore(saved.state);
    }
    for (const line of this.lineCounters) {
      const saved = body.lines[line.id];
      if (!saved) continue;
      line.countAB = saved.countAB;
      line.countBA = saved.countBA;
      line.detector.restore(saved.detector as Parameters<CrossingDetector['restore']>[0]);
    }
  }

  snapshot(): EngineSnapshot {
    const body: SnapshotBody = {
      version: 1,
      lastSeq: this.lastSeq,
      tracker: this.tracker.snapshot(),
      rules: Object.fromEntries(
        this.rules.map((r) => [r.id, { kind: r.kind, state: r.snapshot() }]),
      ),
      lines: Object.fromEntries(
        this.lineCounters.map((l) => [
          l.id,
          { countAB: l.countAB, countBA: l.countBA, detector: l.detector.snapshot() },
        ]),
      ),
      zoneCounts: Object.fromEntries(this.zoneCounts),
    };
    // A deep copy through JSON: what is returned is exactly what a KV store gives back.
    return JSON.parse(JSON.stringify(body)) as EngineSnapshot;
  }

  process(frame: EngineFrame): EngineOutput {
    if (!(frame.width > 0) || !(frame.height > 0)) {
      throw new InvalidArgumentError('a frame needs a positive width and height', 'frame.width');
    }
    if (this.lastSeq !== null && frame.seq <= this.lastSeq) {
      // Redelivered after a restart: already processed, so it changes nothing and emits nothing.
      return {
        tracked: frame.detections.map((d) => ({ ...d, trackId: 0 })),
        events: [],
        zones: this.zoneStates(),
        lines: this.lineStates(),
        highlightTrackIds: [],
        stale: true,
      };
    }
    this.lastSeq = frame.seq;
    const { tracked, visible, removed } = this.tracker.update(
      frame.detections,
      frame.captureTimeMs,
    );
    const observations: Observation[] = visible.map(({ trackId, det }) => ({
      trackId,
      det,
      point: referencePoint(det.box!, frame.width, frame.height),
      area: normalizedArea(det.box!, frame.width, frame.height),
    }));
    const ruleFrame: RuleFrame = {
      seq: frame.seq,
      timeMs: frame.captureTimeMs,
      visible: observations,
      removed,
    };
    const events: EngineEvent[] = [];
    for (const rule of this.rules) {
      rule.evaluate(ruleFrame).forEach((f, n) => {
        events.push({
          id: `${this.runId}.${rule.id}.${frame.seq}.${n}`,
          ruleId: rule.id,
          kind: rule.kind,
          captureTimeMs: frame.captureTimeMs,
          frameSeq: frame.seq,
          ...f,
        });
      });
    }
    this.countLines(observations, removed);
    for (const z of this.config.zones) {
      const polygon = z.polygon as Point[];
      this.zoneCounts.set(
        z.id,
        observations.filter((o) => pointInPolygon(o.point, polygon)).length,
      );
    }
    const highlight = new Set(events.flatMap((e) => e.trackIds));
    return {
      tracked,
      events,
      zones: this.zoneStates(),
      lines: this.lineStates(),
      highlightTrackIds: [...highlight].sort((a, b) => a - b),
    };
  }

  private countLines(observations: Observation[], removed: { trackId: number }[]): void {
    for (const line of this.lineCounters) {
      for (const o of observations) {
        const dir = line.detector.update(o.trackId, o.point);
        if (dir === 'a_to_b') line.countAB += 1;
        else if (dir === 'b_to_a') line.countBA += 1;
      }
      for (const r of removed) line.detector.forget(r.trackId);
    }
  }

  private zoneStates(): ZoneState[] {
    return this.config.zones.map((z) => ({
      id: z.id,
      polygon: z.polygon.map((p) => [p[0], p[1]] as [number, number]),
      count: this.zoneCounts.get(z.id) ?? 0,
    }));
  }

  private lineStates(): LineState[] {
    return this.lineCounters.map((l) => ({
      id: l.id,
      a: [l.a[0], l.a[1]],
      b: [l.b[0], l.b[1]],
      countAB: l.countAB,
      countBA: l.countBA,
    }));
  }
}

function readSnapshot(snapshot: EngineSnapshot): SnapshotBody {
  if (snapshot.version !== 1 || typeof snapshot['tracker'] !== 'object') {
    throw new InvalidArgumentError(
      `unsupported rules engine snapshot (version ${String(snapshot.version)})`,
      'snapshot.version',
    );
  }
  return snapshot as unknown as SnapshotBody;
}
