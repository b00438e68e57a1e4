import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '../testing.js';
import { Tracker } from './tracker.js';

test('an id survives a 5-frame gap', () => {
  const t = new Tracker();
  const ids: number[] = [];
  for (let f = 0; f < 20; f++) {
    const gap = f >= 8 && f < 13;
    const r = t.update(gap ? [] : [at(0.3 + f * 0.005, 0.5)], f * 100);
    if (!gap) ids.push(r.tracked[0]!.trackId);
  }
  assert.deepEqual(new Set(ids), new Set([1]));
});

test('a track lost longer than the buffer is dropped and a new id is born', () => {
  const t = new Tracker({ trackBufferFrames: 3 });
  assert.equal(t.update([at(0.5, 0.5)], 0).tracked[0]!.trackId, 1);
  const removed: number[] = [];
  for (let f = 1; f <= 4; f++) removed.push(...t.update([], f * 100).removed.map((r) => r.trackId));
  assert.deepEqual(removed, [1]);
  assert.equal(t.update([at(0.5, 0.5)], 500).tracked[0]!.trackId, 2);
});

test('two objects crossing each other keep their ids', () => {
  const t = new Tracker();
  // A moves right, B moves left on nearly the same row; their boxes overlap mid-way.
  for (let f = 0; f <= 30; f++) {
    const a = at(0.2 + f * 0.02, 0.5);
    const b = at(0.8 - f * 0.02, 0.51);
    const r = t.update([a, b], f * 100);
    assert.deepEqual(
      r.tracked.map((d) => d.trackId),
      [1, 2],
      `frame ${f}`,
    );
  }
});

test('low-score detections extend a track (second pass) but never start one', () => {
  const t = new Tracker();
  assert.equal(t.update([at(0.5, 0.5)], 0).tracked[0]!.trackId, 1);
  // Partial occlusion: the detector's confidence drops, the id stays.
  assert.equal(t.update([at(0.5, 0.5, { score: 0.3 })], 100).tracked[0]!.trackId, 1);
  // A low-score detection far away starts nothing.
  const r = t.update([at(0.5, 0.5), at(0.1, 0.1, { score: 0.3 })], 200);
  assert.deepEqual(
    r.tracked.map((d) => d.trackId),
    [1, 0],
  );
});

test('tracks are per class', () => {
  const t = new Tracker();
  t.update([at(0.5, 0.5, { classId: 0 })], 0);
  const r = t.update([at(0.5, 0.5, { classId: 2, label: 'car' })], 100);
  assert.equal(r.tracked[0]!.trackId, 2);
});

test('a snapshot restores ids and keeps them monotonic', () => {
  const t = new Tracker();
  t.update([at(0.2, 0.5), at(0.7, 0.5)], 0);
  const copy = new Tracker({}, JSON.parse(JSON.stringify(t.snapshot())));
  const r = copy.update([at(0.2, 0.5), at(0.7, 0.5), at(0.45, 0.9)], 100);
  assert.deepEqual(
    r.tracked.map((d) => d.trackId),
    [1, 2, 3],
  );
});

test('the lost-track buffer can also be bounded in capture time', () => {
  const t = new Tracker({ trackBufferMs: 250 });
  t.update([at(0.5, 0.5)], 0);
  assert.deepEqual(t.update([], 200).removed, []);
  assert.deepEqual(
    t.update([], 300).removed.map((r) => r.trackId),
    [1],
  );
});
