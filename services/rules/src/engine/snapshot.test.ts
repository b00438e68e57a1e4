import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Detection } from '@sie/contracts';
import { RunEngine } from './run-engine.js';
import { at, config, frame } from './testing.js';
import type { EngineOutput, RulesConfig } from './types.js';

const everyKind = config([
  { id: 'in', kind: 'zone_enter', zone: 'z' },
  { id: 'out', kind: 'zone_exit', zone: 'z', cooldownMs: 300 },
  { id: 'dwell', kind: 'dwell', zone: 'z', params: { seconds: 0.8 } },
  { id: 'cross', kind: 'line_cross', line: 'l', cooldownMs: 500 },
  { id: 'down', kind: 'line_cross', line: 'l', params: { direction: 'a_to_b', minDistance: 0.02 } },
  { id: 'crowd', kind: 'occupancy', zone: 'z', params: { op: 'gte', count: 2, seconds: 0.3 } },
  { id: 'few', kind: 'occupancy', zone: 'z', params: { op: 'lte', count: 1, seconds: 0.5 } },
  { id: 'empty', kind: 'absence', zone: 'z', classes: ['person'], params: { seconds: 0.4 } },
]);

/** Deterministic PRNG (mulberry32), so a failing sequence can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Objects random-walking through the zone and across the line, with dropouts and score dips. */
function randomFrames(seed: number, n: number): Detection[][] {
  const r = rng(seed);
  const objects = Array.from({ length: 4 }, (_, i) => ({
    x: 0.2 + r() * 0.6,
    y: 0.3 + r() * 0.4,
    vx: (r() - 0.5) * 0.03,
    vy: (r() - 0.5) * 0.03,
    car: i === 3,
  }));
  const frames: Detection[][] = [];
  for (let f = 0; f < n; f++) {
    const dets: Detection[] = [];
    for (const o of objects) {
      o.vx += (r() - 0.5) * 0.004;
      o.vy += (r() - 0.5) * 0.004;
      o.x = Math.min(0.95, Math.max(0.05, o.x + o.vx));
      o.y = Math.min(0.95, Math.max(0.15, o.y + o.vy));
      if (o.x <= 0.05 || o.x >= 0.95) o.vx = -o.vx;
      if (o.y <= 0.15 || o.y >= 0.95) o.vy = -o.vy;
      if (r() < 0.08) continue; // missed detection
      const score = r() < 0.15 ? 0.2 + r() * 0.3 : 0.6 + r() * 0.4;
      dets.push(at(o.x, o.y, o.car ? { classId: 2, label: 'car', score } : { score }));
    }
    if (r() < 0.05) dets.push(at(r(), 0.2 + r() * 0.7, { score: 0.55 })); // clutter
    frames.push(dets);
  }
  return frames;
}

function runAll(cfg: RulesConfig, frames: Detection[][]): EngineOutput[] {
  const e = new RunEngine('run', cfg);
  return frames.map((d, i) => e.process(frame(i + 1, d)));
}

/** Runs 1..k, snapshots (through a JSON string, as a KV store would), then k+1..n on a new engine. */
function runSplit(cfg: RulesConfig, frames: Detection[][], k: number): EngineOutput[] {
  const first = new RunEngine('run', cfg);
  const out = frames.slice(0, k).map((d, i) => first.process(frame(i + 1, d)));
  const saved = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<RunEngine['snapshot']>;
  const second = new RunEngine('run', cfg, saved);
  return out.concat(frames.slice(k).map((d, i) => second.process(frame(k + i + 1, d))));
}

test('a scripted run split by a snapshot equals the uninterrupted run', () => {
  // One person walks down through the zone and across the line, waits, and walks back up; a
  // second one comes and goes.
  const frames: Detection[][] = [];
  for (let f = 1; f <= 60; f++) {
    const y = f <= 20 ? 0.3 + f * 0.012 : f <= 40 ? 0.54 : 0.54 - (f - 40) * 0.012;
    const dets = [at(0.5, y)];
    if (f >= 10 && f <= 35) dets.push(at(0.45, 0.45));
    frames.push(dets);
  }
  const whole = runAll(everyKind, frames);
  assert.ok(whole.flatMap((o) => o.events).length >= 8, 'the script exercises the rules');
  for (const k of [1, 5, 17, 21, 30, 44, 59]) {
    assert.deepEqual(runSplit(everyKind, frames, k), whole, `split at ${k}`);
  }
});

test('random runs split by snapshots equal the uninterrupted runs', () => {
  for (let seed = 1; seed <= 25; seed++) {
    const frames = randomFrames(seed, 150);
    const whole = runAll(everyKind, frames);
    const r = rng(seed * 7919);
    for (let i = 0; i < 3; i++) {
      const k = 1 + Math.floor(r() * 148);
      assert.deepEqual(runSplit(everyKind, frames, k), whole, `seed ${seed}, split at ${k}`);
    }
  }
});

test('random runs produce events of every kind (the equivalence test is not vacuous)', () => {
  const kinds = new Set<string>();
  for (let seed = 1; seed <= 25; seed++) {
    for (const o of runAll(everyKind, randomFrames(seed, 150))) {
      for (const e of o.events) kinds.add(e.kind);
    }
  }
  assert.deepEqual([...kinds].sort(), [
    'absence',
    'dwell',
    'line_cross',
    'occupancy',
    'zone_enter',
    'zone_exit',
  ]);
});

test('event ids are unique and deterministic', () => {
  const frames = randomFrames(3, 150);
  const a = runAll(everyKind, frames).flatMap((o) => o.events.map((e) => e.id));
  const b = runAll(everyKind, frames).flatMap((o) => o.events.map((e) => e.id));
  assert.deepEqual(a, b);
  assert.equal(new Set(a).size, a.length);
});

test('a snapshot of an unknown version is refused', () => {
  assert.throws(
    () => new RunEngine('run', everyKind, { version: 2 } as never),
    /unsupported rules engine snapshot/,
  );
});

test('state of a rule removed from the config is dropped on restore', () => {
  const e = new RunEngine('run', everyKind);
  e.process(frame(1, [at(0.5, 0.5)]));
  const fewer = { ...everyKind, rules: everyKind.rules.filter((r) => r.id !== 'in') };
  const restored = new RunEngine('run', fewer, e.snapshot());
  assert.equal(restored.process(frame(2, [at(0.5, 0.5)])).tracked[0]!.trackId, 1);
});
