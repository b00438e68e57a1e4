import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iou, nmsPerClass } from './nms.js';

const box = (classId: number, score: number, x1: number, y1: number, x2: number, y2: number) => ({
  classId,
  score,
  x1,
  y1,
  x2,
  y2,
});

test('iou of identical, disjoint and half-overlapping boxes', () => {
  const a = box(0, 1, 0, 0, 10, 10);
  assert.equal(iou(a, a), 1);
  assert.equal(iou(a, box(0, 1, 20, 20, 30, 30)), 0);
  assert.equal(iou(a, box(0, 1, 0, 0, 10, 5)), 0.5);
  assert.ok(Math.abs(iou(a, box(0, 1, 5, 0, 15, 10)) - 50 / 150) < 1e-12);
});

test('NMS keeps the best of overlapping boxes of one class, best first', () => {
  const kept = nmsPerClass(
    [box(1, 0.6, 1, 1, 11, 11), box(1, 0.9, 0, 0, 10, 10), box(1, 0.7, 50, 50, 60, 60)],
    0.45,
  );
  assert.deepEqual(
    kept.map((k) => k.score),
    [0.9, 0.7],
  );
});

test('NMS is per class: overlapping boxes of different classes both stay', () => {
  const kept = nmsPerClass([box(1, 0.9, 0, 0, 10, 10), box(2, 0.8, 0, 0, 10, 10)], 0.45);
  assert.equal(kept.length, 2);
});

test('IoU at the threshold is kept (suppression needs more than the threshold)', () => {
  // IoU exactly 0.5.
  const kept = nmsPerClass([box(0, 0.9, 0, 0, 10, 10), box(0, 0.8, 0, 0, 10, 5)], 0.5);
  assert.equal(kept.length, 2);
  assert.equal(nmsPerClass([box(0, 0.9, 0, 0, 10, 10), box(0, 0.8, 0, 0, 10, 5)], 0.49).length, 1);
});

test('maxKeep limits the result to the best boxes', () => {
  const dets = [0.1, 0.5, 0.3, 0.9].map((s, i) => box(0, s, i * 20, 0, i * 20 + 10, 10));
  assert.deepEqual(
    nmsPerClass(dets, 0.45, 2).map((d) => d.score),
    [0.9, 0.5],
  );
});
