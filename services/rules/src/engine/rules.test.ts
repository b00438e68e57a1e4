import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Detection } from '@sie/contracts';
import { RunEngine } from './run-engine.js';
import { at, config, frame } from './testing.js';
import type { EngineEvent, RulesConfig } from './types.js';

/** Runs frames 1..n (10 fps) and returns every event in order. */
function run(cfg: RulesConfig, frames: Detection[][]): EngineEvent[] {
  const engine = new RunEngine('run1', cfg);
  return frames.flatMap((dets, i) => engine.process(frame(i + 1, dets)).events);
}

const brief = (e: EngineEvent) => ({
  id: e.id,
  frameSeq: e.frameSeq,
  trackIds: e.trackIds,
  counts: e.counts,
});

/** One detection per frame for frames 1..n, its reference point at `pos(f)`. */
function walk(n: number, pos: (f: number) => [number, number]): Detection[][] {
  const out: Detection[][] = [];
  for (let f = 1; f <= n; f++) out.push([at(...pos(f))]);
  return out;
}

/** Reference points along a path, one per frame. */
function path(points: [number, number][], o?: Parameters<typeof at>[2]): Detection[][] {
  return points.map(([x, y]) => [at(x, y, o)]);
}

test('zone_enter and zone_exit fire once per transition of a track', () => {
  // x = 0.31 + 0.02 (f - 1): inside (0.4 < x < 0.6) from frame 6 (0.41) to 15 (0.59).
  const frames = walk(18, (f) => [0.31 + 0.02 * (f - 1), 0.5]);
  const cfg = config([
    { id: 'in', kind: 'zone_enter', zone: 'z' },
    { id: 'out', kind: 'zone_exit', zone: 'z' },
  ]);
  assert.deepEqual(run(cfg, frames).map(brief), [
    { id: 'run1.in.6.0', frameSeq: 6, trackIds: [1], counts: { inside: 1 } },
    { id: 'run1.out.16.0', frameSeq: 16, trackIds: [1], counts: { inside: 0 } },
  ]);
});

test('a track that appears inside has entered; one dropped inside has left', () => {
  const cfg = config([
    { id: 'in', kind: 'zone_enter', zone: 'z' },
    { id: 'out', kind: 'zone_exit', zone: 'z' },
  ]);
  const engine = new RunEngine('run1', cfg, undefined, { tracker: { trackBufferFrames: 2 } });
  const events: EngineEvent[] = [];
  const seq: Detection[][] = [[at(0.5, 0.5)], [at(0.5, 0.5)], [], [], []];
  seq.forEach((d, i) => events.push(...engine.process(frame(i + 1, d)).events));
  assert.deepEqual(
    events.map((e) => [e.ruleId, e.frameSeq, e.trackIds]),
    [
      ['in', 1, [1]],
      ['out', 5, [1]],
    ],
  );
});

test('class filter, minScore and minBoxArea keep other objects out of a rule', () => {
  const cfg = config([
    { id: 'cars', kind: 'zone_enter', zone: 'z', classes: ['car'] },
    { id: 'sure', kind: 'zone_enter', zone: 'z', minScore: 0.8 },
    { id: 'big', kind: 'zone_enter', zone: 'z', params: { minBoxArea: 0.05 } },
  ]);
  const events = run(cfg, [
    [
      at(0.45, 0.5, { score: 0.7, w: 40, h: 80 }), // person, unsure, small (0.0032 of the frame)
      at(0.55, 0.5, { classId: 2, label: 'car', w: 300, h: 200 }), // car, sure, big (0.06)
    ],
  ]);
  assert.deepEqual(
    events.map((e) => [e.ruleId, e.trackIds]),
    [
      ['cars', [2]],
      ['sure', [2]],
      ['big', [2]],
    ],
  );
});

test('dwell fires once, exactly at the first frame where the dwell reaches the threshold', () => {
  // 10 fps: x 0.37, 0.39, then inside from frame 3 (0.41, t = 200 ms) on; 1.5 s later is
  // t = 1700 ms, frame 18.
  const frames = walk(40, (f) => [Math.min(0.35 + 0.02 * f, 0.5), 0.5]);
  const cfg = config([{ id: 'loiter', kind: 'dwell', zone: 'z', params: { seconds: 1.5 } }]);
  assert.deepEqual(run(cfg, frames).map(brief), [
    { id: 'run1.loiter.18.0', frameSeq: 18, trackIds: [1], counts: { inside: 1, dwellMs: 1500 } },
  ]);
});

test('dwell restarts with a new visit after the track leaves', () => {
  const xs = [0.5, 0.5, 0.5, 0.5, 0.5, 0.53, 0.57, 0.61, 0.62, 0.59];
  const frames = walk(30, (f) => [xs[f - 1] ?? 0.55, 0.5]);
  const cfg = config([{ id: 'd', kind: 'dwell', zone: 'z', params: { seconds: 0.5 } }]);
  // Visit 1 from frame 1 (fires at 6, t 500), out at 8, visit 2 from frame 10 (t 900; fires at
  // 15, t 1400).
  assert.deepEqual(
    run(cfg, frames).map((e) => e.frameSeq),
    [6, 15],
  );
});

test('a track jittering on a line is counted once', () => {
  // Line at y = 0.5; the track comes from above, then jitters within ±0.005 of the line, then
  // goes on down. Counted once, A→B (downwards across a left-to-right line).
  const ys = [0.4, 0.45, 0.49, 0.505, 0.497, 0.504, 0.496, 0.503, 0.499, 0.52, 0.515, 0.53, 0.6];
  const cfg = config([{ id: 'x', kind: 'line_cross', line: 'l' }]);
  const engine = new RunEngine('run1', cfg);
  const events: EngineEvent[] = [];
  let last: ReturnType<RunEngine['process']> | undefined;
  ys.forEach((y, i) => {
    last = engine.process(frame(i + 1, [at(0.5, y)]));
    events.push(...last.events);
  });
  assert.deepEqual(events.map(brief), [
    { id: 'run1.x.10.0', frameSeq: 10, trackIds: [1], counts: { a_to_b: 1, b_to_a: 0 } },
  ]);
  assert.deepEqual(
    last!.lines.map((l) => [l.id, l.countAB, l.countBA]),
    [['l', 1, 0]],
  );
});

test('line_cross counts both directions and fires for the configured one', () => {
  // Down (A→B), up (B→A), down again.
  const ys = [0.44, 0.47, 0.53, 0.56, 0.53, 0.47, 0.44, 0.47, 0.53];
  const frames = path(ys.map((y) => [0.5, y] as [number, number]));
  const cfg = config([
    { id: 'both', kind: 'line_cross', line: 'l' },
    { id: 'down', kind: 'line_cross', line: 'l', params: { direction: 'a_to_b' } },
    { id: 'up', kind: 'line_cross', line: 'l', params: { direction: 'b_to_a' } },
  ]);
  assert.deepEqual(
    run(cfg, frames).map((e) => [e.ruleId, e.frameSeq, e.counts]),
    [
      ['both', 3, { a_to_b: 1, b_to_a: 0 }],
      ['down', 3, { a_to_b: 1, b_to_a: 0 }],
      ['both', 6, { a_to_b: 1, b_to_a: 1 }],
      ['up', 6, { a_to_b: 1, b_to_a: 1 }],
      ['both', 9, { a_to_b: 2, b_to_a: 1 }],
      ['down', 9, { a_to_b: 2, b_to_a: 1 }],
    ],
  );
});

test('passing beside the end of a line segment is not a crossing', () => {
  // The line spans x 0.1–0.9; a track at x = 0.95 moves down past y = 0.5.
  const frames = path([0.4, 0.45, 0.55, 0.6].map((y) => [0.95, y] as [number, number]));
  assert.deepEqual(run(config([{ id: 'x', kind: 'line_cross', line: 'l' }]), frames), []);
});

test('line_cross cooldown counts a track at most once per direction per cooldown', () => {
  // Down at frame 3 (t 200), up at 5 (t 400), down at 7 and up at 9 (within 1 s of the last
  // counted crossing in that direction: suppressed), down at 15 (t 1400: cooldown over).
  const ys = [0.44, 0.47, 0.53, 0.53, 0.47, 0.47, 0.53, 0.53, 0.47, 0.47, 0.47, 0.47, 0.47, 0.47];
  ys.push(0.53);
  const frames = path(ys.map((y) => [0.5, y] as [number, number]));
  const cfg = config([{ id: 'c', kind: 'line_cross', line: 'l', cooldownMs: 1000 }]);
  assert.deepEqual(
    run(cfg, frames).map((e) => [e.frameSeq, e.counts]),
    [
      [3, { a_to_b: 1, b_to_a: 0 }],
      [5, { a_to_b: 1, b_to_a: 1 }],
      [15, { a_to_b: 2, b_to_a: 1 }],
    ],
  );
});

test('occupancy fires once when held, with hysteresis before it re-arms', () => {
  const cfg = config([
    {
      id: 'crowd',
      kind: 'occupancy',
      zone: 'z',
      params: { op: 'gte', count: 2, seconds: 0.5, rearmSeconds: 0.3 },
    },
  ]);
  const two = [at(0.45, 0.5), at(0.55, 0.5)];
  const one = [at(0.45, 0.5), at(0.8, 0.5)];
  // Frames 1–10: two inside (fires at 6, t 500 from t 0). 11–12: one (false 0.1 s, not re-armed).
  // 13–20: two again (no event: not re-armed). 21–24: one (false 0.3 s at frame 24: re-armed).
  // 25–35: two (held 0.5 s at frame 30).
  const frames: Detection[][] = [];
  const plan: [number, Detection[]][] = [
    [10, two],
    [2, one],
    [8, two],
    [4, one],
    [11, two],
  ];
  for (const [n, d] of plan) for (let i = 0; i < n; i++) frames.push(d);
  assert.deepEqual(
    run(cfg, frames).map((e) => [e.frameSeq, e.trackIds, e.counts]),
    [
      [6, [1, 2], { inside: 2, heldMs: 500 }],
      [30, [1, 2], { inside: 2, heldMs: 500 }],
    ],
  );
});

test('occupancy lte fires when the zone is nearly empty', () => {
  const cfg = config([
    { id: 'low', kind: 'occupancy', zone: 'z', params: { op: 'lte', count: 0, seconds: 0.2 } },
  ]);
  const frames: Detection[][] = [[at(0.5, 0.5)], [at(0.5, 0.5)], [], [], [], []];
  assert.deepEqual(
    run(cfg, frames).map((e) => [e.frameSeq, e.counts]),
    [[5, { inside: 0, heldMs: 200 }]],
  );
});

test('absence fires once after the hold and re-arms when an object appears', () => {
  const cfg = config([
    { id: 'gone', kind: 'absence', zone: 'z', classes: ['person'], params: { seconds: 0.3 } },
  ]);
  const car = at(0.5, 0.5, { classId: 2, label: 'car' });
  // 1–6: only a car in the zone (fires at 4); 7: a person; 8–12: empty again (fires at 11).
  const frames: Detection[][] = [];
  for (let f = 1; f <= 6; f++) frames.push([car]);
  frames.push([car, at(0.45, 0.5)]);
  for (let f = 8; f <= 12; f++) frames.push([car]);
  assert.deepEqual(
    run(cfg, frames).map((e) => [e.id, e.counts]),
    [
      ['run1.gone.4.0', { inside: 0, absentMs: 300 }],
      ['run1.gone.11.0', { inside: 0, absentMs: 300 }],
    ],
  );
});

test('a zone cooldown suppresses a track re-entering too soon', () => {
  const xs = [0.37, 0.41, 0.37, 0.41, 0.37, 0.37, 0.37, 0.37, 0.37, 0.37, 0.37, 0.37, 0.37, 0.41];
  const frames = path(xs.map((x) => [x, 0.5] as [number, number]));
  const cfg = config([{ id: 'in', kind: 'zone_enter', zone: 'z', cooldownMs: 1000 }]);
  // Enters at 2 (t 100), again at 4 (t 300: suppressed), again at 14 (t 1300).
  assert.deepEqual(
    run(cfg, frames).map((e) => e.frameSeq),
    [2, 14],
  );
});

test('occupancy cooldown is per rule', () => {
  const cfg = config([
    {
      id: 'o',
      kind: 'occupancy',
      zone: 'z',
      cooldownMs: 2000,
      params: { op: 'gte', count: 1, seconds: 0, rearmSeconds: 0 },
    },
  ]);
  // In at odd frames, out at even ones (re-arming at once): fires at 1 (t 0), then the cooldown
  // holds it until frame 21 (t 2000), then again until past frame 25.
  const frames: Detection[][] = [];
  for (let f = 1; f <= 25; f++) frames.push(f % 2 === 1 ? [at(0.5, 0.5)] : []);
  assert.deepEqual(
    run(cfg, frames).map((e) => e.frameSeq),
    [1, 21],
  );
});

test('the output carries tracked detections, live zone counts and highlights', () => {
  const engine = new RunEngine('r', config([{ id: 'in', kind: 'zone_enter', zone: 'z' }]));
  const out = engine.process(frame(1, [at(0.5, 0.5), at(0.9, 0.9), at(0.1, 0.1, { score: 0.2 })]));
  assert.deepEqual(
    out.tracked.map((d) => d.trackId),
    [1, 2, 0],
  );
  assert.deepEqual(
    out.zones.map((z) => [z.id, z.count]),
    [['z', 1]],
  );
  assert.deepEqual(out.highlightTrackIds, [1]);
  assert.equal(out.events[0]!.message, 'track 1 (person) entered zone z');
});

test('a redelivered frame is ignored', () => {
  const engine = new RunEngine('r', config([{ id: 'in', kind: 'zone_enter', zone: 'z' }]));
  assert.equal(engine.process(frame(1, [at(0.5, 0.5)])).events.length, 1);
  const again = engine.process(frame(1, [at(0.5, 0.5)]));
  assert.equal(again.stale, true);
  assert.deepEqual(again.events, []);
});
