import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelError } from '@sie/errors';
import { softmaxInPlace } from './classify.js';
import { createDecoder } from './factory.js';
import type { DecodeOptions, DecoderIo } from './types.js';

const io: DecoderIo = {
  modelId: 'm',
  inputWidth: 224,
  inputHeight: 224,
  numClasses: 4,
  outputShape: [1, 4],
};
const opts = (over: Partial<DecodeOptions> = {}): DecodeOptions => ({
  ratio: 1,
  padX: 0,
  padY: 0,
  imageWidth: 320,
  imageHeight: 240,
  scoreThreshold: 0,
  nmsIou: 0.45,
  maxDetections: 0,
  classMask: null,
  ...over,
});

/** The reference softmax, written out. */
function softmax(logits: number[]): number[] {
  const e = logits.map((x) => Math.exp(x));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

test('softmax is stable for large logits', () => {
  const v = new Float64Array([1000, 1000, 999]);
  softmaxInPlace(v);
  const expected = softmax([1, 1, 0]);
  v.forEach((p, i) => assert.ok(close(p, expected[i] as number), `${p}`));
});

test('logits: softmax, then the top k as whole-image detections, best first', () => {
  const logits = [0.5, 2, -1, 1];
  const p = softmax(logits);
  const decoder = createDecoder({ type: 'classify', softmax: true, topK: 3 }, io);
  assert.equal(decoder.type, 'classify');
  const dets = decoder.decode(new Float32Array(logits), opts());
  assert.deepEqual(
    dets.map((d) => d.classId),
    [1, 3, 0],
  );
  dets.forEach((d) => {
    assert.ok(close(d.score, p[d.classId] as number), `${d.classId}: ${d.score}`);
    assert.deepEqual([d.x1, d.y1, d.x2, d.y2], [0, 0, 320, 240]);
  });
});

test('probabilities pass through; threshold, class filter and limit apply', () => {
  const decoder = createDecoder({ type: 'classify', softmax: false, topK: 5 }, io);
  const out = new Float32Array([0.125, 0.5, 0.125, 0.25]);
  const pick = (o: Partial<DecodeOptions>) =>
    decoder.decode(out, opts(o)).map((d) => [d.classId, d.score]);
  assert.deepEqual(pick({}), [
    [1, 0.5],
    [3, 0.25],
    [0, 0.125], // a tie goes to the lower class id
    [2, 0.125],
  ]);
  assert.deepEqual(pick({ scoreThreshold: 0.25 }), [
    [1, 0.5],
    [3, 0.25],
  ]);
  assert.deepEqual(pick({ classMask: new Uint8Array([1, 0, 1, 0]) }), [
    [0, 0.125],
    [2, 0.125],
  ]);
  assert.deepEqual(pick({ maxDetections: 1 }), [[1, 0.5]]);
});

test('an output that does not fit the class list is a ModelError naming both shapes', () => {
  assert.throws(
    () =>
      createDecoder(
        { type: 'classify', softmax: true, topK: 5 },
        { ...io, outputShape: [1, 1000] },
      ),
    (e: unknown) =>
      e instanceof ModelError && e.message === 'classify output is [1,1000]; 4 classes need [1,4]',
  );
  const ok = createDecoder(
    { type: 'classify', softmax: true, topK: 5 },
    { ...io, outputShape: ['b', 'c'] },
  );
  assert.throws(() => ok.decode(new Float32Array(5), opts()), ModelError);
});
