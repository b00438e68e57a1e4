import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelError } from '@sie/errors';
import { createDecoder } from './factory.js';
import type { DecodeOptions, DecoderIo } from './types.js';
import { yoloLayout } from './yolo.js';

const io = (outputShape: (number | string)[], numClasses = 3): DecoderIo => ({
  modelId: 'm',
  inputWidth: 640,
  inputHeight: 640,
  numClasses,
  outputShape,
});
const opts = (over: Partial<DecodeOptions> = {}): DecodeOptions => ({
  ratio: 1,
  padX: 0,
  padY: 0,
  imageWidth: 640,
  imageHeight: 640,
  scoreThreshold: 0.25,
  nmsIou: 0.45,
  maxDetections: 0,
  classMask: null,
  ...over,
});

/** [1, 4 + C, n]: value v of anchor i at v × n + i. */
function v8(n: number, classes: number, anchors: [number, number[], number[]][]): Float32Array {
  const out = new Float32Array((4 + classes) * n);
  for (const [i, box, scores] of anchors) {
    [...box, ...scores].forEach((v, k) => (out[k * n + i] = v));
  }
  return out;
}

/** [1, n, 5 + C]: anchor i's values at i × (5 + C). */
function v5(n: number, classes: number, anchors: [number, number[], number[]][]): Float32Array {
  const out = new Float32Array((5 + classes) * n);
  for (const [i, values, scores] of anchors) out.set([...values, ...scores], i * (5 + classes));
  return out;
}

const xyxy = (d: { x1: number; y1: number; x2: number; y2: number } | undefined) =>
  d && [d.x1, d.y1, d.x2, d.y2];

test('the layout follows the output shape and the class count', () => {
  assert.equal(yoloLayout('auto', io([1, 84, 8400], 80)), 'v8');
  assert.equal(yoloLayout('auto', io([1, 25200, 85], 80)), 'v5');
  assert.equal(yoloLayout('auto', io(['batch', 84, 'anchors'], 80)), 'v8');
  assert.equal(yoloLayout('auto', io(['batch', 'anchors', 85], 80)), 'v5');
  assert.equal(yoloLayout('v8', io(['b', 'c', 'n'], 80)), 'v8');
  assert.equal(yoloLayout('v5', io([1, 84, 85], 80)), 'v5');
});

test('an output that fits no layout, or both, or cannot tell, is a ModelError saying so', () => {
  assert.throws(
    () => createDecoder({ type: 'yolo', layout: 'auto' }, io([1, 85, 8400], 20)),
    (e: unknown) =>
      e instanceof ModelError &&
      e.message.includes('[1,85,8400]') &&
      e.message.includes('20 classes need [1,24,anchors]') &&
      e.message.includes('[1,anchors,25]'),
  );
  assert.throws(
    () => yoloLayout('auto', io([1, 84, 85], 80)),
    (e: unknown) => e instanceof ModelError && /fits both layouts/.test(e.message),
  );
  assert.throws(
    () => yoloLayout('auto', io(['b', 'c', 'n'], 80)),
    (e: unknown) => e instanceof ModelError && /set decoder\.layout/.test(e.message),
  );
  assert.throws(
    () => yoloLayout('v8', io([1, 8400, 85], 80)),
    (e: unknown) =>
      e instanceof ModelError && /layout v8 with 80 classes needs \[1,84,/.test(e.message),
  );
});

test('v8: best class score per anchor, per-class NMS, boxes mapped back through the letterbox', () => {
  const out = v8(10, 3, [
    [2, [100, 60, 40, 20], [0.1, 0.875, 0.2]],
    [5, [102, 60, 40, 20], [0.05, 0.75, 0.1]], // overlaps anchor 2 (IoU 0.9): suppressed
    [7, [102, 60, 40, 20], [0.5, 0.1, 0.1]], // same place, another class: kept
    [9, [300, 300, 50, 50], [0.2, 0.1, 0.125]], // below the threshold
  ]);
  const decoder = createDecoder({ type: 'yolo', layout: 'auto' }, io([1, 7, 10]));
  assert.equal(decoder.type, 'yolo');
  // Network input 2× the image, centred 20 px down: x / 0.5, (y - 20) / 0.5.
  const dets = decoder.decode(out, opts({ ratio: 0.5, padY: 20, imageHeight: 1000 }));
  assert.deepEqual(
    dets.map((d) => [d.classId, d.score, ...(xyxy(d) ?? [])]),
    [
      [1, 0.875, 160, 60, 240, 100],
      [0, 0.5, 164, 60, 244, 100],
    ],
  );
});

test('v8: the class mask, the limit and clipping apply', () => {
  const out = v8(4, 3, [
    [0, [10, 10, 40, 40], [0.9, 0, 0]], // extends past the top-left
    [1, [300, 300, 20, 20], [0, 0.95, 0]],
    [2, [200, 200, 20, 20], [0, 0.3, 0.8]],
  ]);
  const decoder = createDecoder({ type: 'yolo', layout: 'v8' }, io([1, 7, 'n']));
  const o = opts({ imageWidth: 400, imageHeight: 400 });
  const all = decoder.decode(out, o);
  assert.deepEqual(
    all.map((d) => d.classId),
    [1, 0, 2],
  );
  assert.deepEqual(xyxy(all[1]), [0, 0, 30, 30]);
  const mask = new Uint8Array([0, 1, 0]);
  // With class 2 masked out, anchor 2's best is class 1 at 0.3.
  assert.deepEqual(
    decoder.decode(out, { ...o, classMask: mask }).map((d) => [d.classId, d.score]),
    [
      [1, Math.fround(0.95)],
      [1, Math.fround(0.3)],
    ],
  );
  assert.equal(decoder.decode(out, { ...o, maxDetections: 1 }).length, 1);
  assert.throws(() => decoder.decode(new Float32Array(15), o), ModelError);
});

test('v5: score = objectness × class score; boxes as v8', () => {
  const out = v5(10, 3, [
    [1, [100, 60, 40, 20, 0.5], [0.25, 0.75, 0.5]], // 0.375, class 1
    [4, [101, 60, 40, 20, 1], [0.25, 0.25, 0.25]], // 0.25 class 0, overlaps another class: kept
    [6, [100, 61, 40, 20, 0.5], [0, 0.5, 0]], // 0.25 class 1, overlaps anchor 1: suppressed
    [8, [300, 300, 10, 10, 0.2], [1, 1, 1]], // objectness under the threshold
  ]);
  const decoder = createDecoder({ type: 'yolo', layout: 'auto' }, io([1, 10, 8]));
  const dets = decoder.decode(out, opts());
  assert.deepEqual(
    dets.map((d) => [d.classId, d.score, ...(xyxy(d) ?? [])]),
    [
      [1, 0.375, 80, 50, 120, 70],
      [0, 0.25, 81, 50, 121, 70],
    ],
  );
});
