import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelError } from '@sie/errors';
import { createDecoder } from './factory.js';
import type { DecodeOptions, DecoderIo } from './types.js';
import { yoloxAnchorCount } from './yolox.js';

const N = yoloxAnchorCount(416, 416);
const io: DecoderIo = {
  modelId: 'm',
  inputWidth: 416,
  inputHeight: 416,
  numClasses: 80,
  outputShape: [1, N, 85],
};
const opts = (over: Partial<DecodeOptions> = {}): DecodeOptions => ({
  ratio: 0.5,
  padX: 0,
  padY: 0,
  imageWidth: 832,
  imageHeight: 832,
  scoreThreshold: 0.3,
  nmsIou: 0.45,
  maxDetections: 0,
  classMask: null,
  ...over,
});

function anchor(out: Float32Array, i: number, values: number[], classId: number, p: number): void {
  out.set(values, i * 85);
  out[i * 85 + 5 + classId] = p;
}

test('the anchor count of a 416 input is 52² + 26² + 13²', () => {
  assert.equal(N, 3549);
});

test('decoded-in-graph boxes: score = objectness × class prob, mapped back by the ratio', () => {
  const out = new Float32Array(N * 85);
  anchor(out, 100, [100, 80, 40, 20, 0.9], 16, 0.9);
  anchor(out, 200, [300, 300, 10, 10, 0.5], 2, 0.5); // 0.25 < threshold
  const dets = createDecoder({ type: 'yolox', decodedInGraph: true }, io).decode(out, opts());
  assert.equal(dets.length, 1);
  const d = dets[0];
  assert.ok(d);
  assert.equal(d.classId, 16);
  assert.ok(Math.abs(d.score - 0.81) < 1e-6);
  assert.deepEqual([d.x1, d.y1, d.x2, d.y2], [160, 140, 240, 180]);
});

test('raw output: grid offsets and log sizes per stride decode to the same box', () => {
  const out = new Float32Array(N * 85);
  // Stride 16 grid (26×26) starts after the 52×52 stride-8 anchors; cell x=3, y=2.
  const i = 52 * 52 + 2 * 26 + 3;
  anchor(out, i, [0.5, 0.5, Math.log(4), Math.log(2), 0.9], 7, 0.8);
  const raw = createDecoder({ type: 'yolox', decodedInGraph: false }, io).decode(
    out,
    opts({ ratio: 1 }),
  );
  const ref = new Float32Array(N * 85);
  anchor(ref, i, [56, 40, 64, 32, 0.9], 7, 0.8);
  const dec = createDecoder({ type: 'yolox', decodedInGraph: true }, io).decode(
    ref,
    opts({ ratio: 1 }),
  );
  assert.equal(raw.length, 1);
  const [r, d] = [raw[0], dec[0]];
  assert.ok(r && d);
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) assert.ok(Math.abs(r[k] - d[k]) < 1e-4, k);
  assert.deepEqual([d.x1, d.y1, d.x2, d.y2], [24, 24, 88, 56]);
});

test('boxes are clipped to the image; the class mask and limit apply', () => {
  const out = new Float32Array(N * 85);
  anchor(out, 1, [10, 10, 40, 40, 0.9], 0, 0.9); // extends past the top-left
  anchor(out, 2, [300, 300, 20, 20, 0.9], 1, 0.95);
  anchor(out, 3, [200, 200, 20, 20, 0.9], 2, 0.8);
  const decoder = createDecoder({ type: 'yolox', decodedInGraph: true }, io);
  const all = decoder.decode(out, opts({ ratio: 1, imageWidth: 400, imageHeight: 400 }));
  assert.deepEqual(
    all.map((d) => d.classId),
    [1, 0, 2],
  );
  const first = all.find((d) => d.classId === 0);
  assert.deepEqual(first && [first.x1, first.y1, first.x2, first.y2], [0, 0, 30, 30]);
  const mask = new Uint8Array(80);
  mask[2] = 1;
  assert.deepEqual(
    decoder.decode(out, opts({ classMask: mask })).map((d) => d.classId),
    [2],
  );
  assert.equal(decoder.decode(out, opts({ maxDetections: 1 })).length, 1);
});

test('a network whose output does not fit the class list or input size is a ModelError', () => {
  assert.throws(
    () => createDecoder({ type: 'yolox', decodedInGraph: true }, { ...io, numClasses: 3 }),
    (e: unknown) => e instanceof ModelError && /85 values per anchor/.test(e.message),
  );
  assert.throws(
    () => createDecoder({ type: 'yolox', decodedInGraph: true }, { ...io, inputWidth: 320 }),
    (e: unknown) => e instanceof ModelError && /3549 anchors/.test(e.message),
  );
  // Symbolic dims are accepted (checked at run time by the output length).
  createDecoder({ type: 'yolox', decodedInGraph: false }, { ...io, outputShape: ['b', 'n', 85] });
});
