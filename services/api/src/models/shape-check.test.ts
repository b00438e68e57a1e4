import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelError } from '@sie/errors';
import { modelMetadataSchema } from '@sie/models';
import { checkModelShapes, type ModelIoDescription } from './shape-check.js';

const meta = (decoder: Record<string, unknown>, classes = 80, over: Record<string, unknown> = {}) =>
  modelMetadataSchema.parse({
    name: 'm',
    decoder,
    inputWidth: 640,
    inputHeight: 480,
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
    ...over,
  });

const io = (input: (number | string)[], output: (number | string)[]): ModelIoDescription => ({
  inputs: [{ name: 'images', isTensor: true, type: 'float32', shape: input }],
  outputs: [{ name: 'output', isTensor: true, type: 'float32', shape: output }],
});

const refuses = (fn: () => void, why: RegExp): void =>
  assert.throws(fn, (err: unknown) => err instanceof ModelError && why.test(err.message));

test('yolox: [N, anchors, 5+C] with the declared input size', () => {
  checkModelShapes(meta({ type: 'yolox' }), io([1, 3, 480, 640], [1, 6300, 85]));
  checkModelShapes(meta({ type: 'yolox' }), io(['batch', 3, 'h', 'w'], [-1, 'anchors', 85]));
  refuses(
    () => checkModelShapes(meta({ type: 'yolox' }), io([1, 3, 480, 416], [1, 6300, 85])),
    /width 416, metadata says inputWidth 640/,
  );
  refuses(
    () => checkModelShapes(meta({ type: 'yolox' }), io([1, 3, 416, 640], [1, 6300, 85])),
    /height 416, metadata says inputHeight 480/,
  );
  refuses(
    () => checkModelShapes(meta({ type: 'yolox' }, 3), io([1, 3, 480, 640], [1, 6300, 85])),
    /expects \[N, anchors, 8\] for 3 classes/,
  );
  refuses(
    () => checkModelShapes(meta({ type: 'yolox' }), io([1, 1, 480, 640], [1, 6300, 85])),
    /expected \[N,3,H,W\]/,
  );
});

test('yolo: v8 [N, 4+C, boxes], v5 [N, boxes, 5+C], auto takes either', () => {
  const v8 = io([1, 3, 480, 640], [1, 84, 8400]);
  const v5 = io([1, 3, 480, 640], [1, 25200, 85]);
  checkModelShapes(meta({ type: 'yolo' }), v8);
  checkModelShapes(meta({ type: 'yolo' }), v5);
  checkModelShapes(meta({ type: 'yolo', layout: 'v8' }), v8);
  checkModelShapes(meta({ type: 'yolo', layout: 'v5' }), v5);
  refuses(
    () => checkModelShapes(meta({ type: 'yolo', layout: 'v5' }), v8),
    /v5\) expects \[N, boxes, 85\]/,
  );
  refuses(
    () => checkModelShapes(meta({ type: 'yolo' }, 20), v8),
    /\[N, 24, boxes\] or \[N, boxes, 25\]/,
  );
});

test('classify: [N, C]', () => {
  checkModelShapes(meta({ type: 'classify' }, 1000), io([1, 3, 480, 640], [1, 1000]));
  refuses(
    () => checkModelShapes(meta({ type: 'classify' }, 10), io([1, 3, 480, 640], [1, 1000])),
    /expects \[N, 10\] for 10 classes/,
  );
  refuses(
    () => checkModelShapes(meta({ type: 'classify' }, 10), io([1, 3, 480, 640], [1, 100, 15])),
    /expects \[N, classes\]/,
  );
});

test('inputs and outputs that are not one float32 image tensor are refused', () => {
  const m = meta({ type: 'yolox' });
  refuses(
    () =>
      checkModelShapes(m, {
        inputs: [{ name: 'images', isTensor: true, type: 'uint8', shape: [1, 3, 480, 640] }],
        outputs: [{ name: 'o', isTensor: true, type: 'float32', shape: [1, 1, 85] }],
      }),
    /images is uint8, expected float32/,
  );
  refuses(
    () => checkModelShapes(m, { inputs: [], outputs: [] }),
    /expected 1 input, the graph has 0/,
  );
});

test('metadata: task follows the decoder, options belong to their decoder, every path named', () => {
  assert.equal(meta({ type: 'classify' }).task, 'classify');
  assert.equal(meta({ type: 'yolo' }).task, 'detect');
  assert.deepEqual(meta({ type: 'yolo' }).decoder, { type: 'yolo', layout: 'auto' });
  const r = modelMetadataSchema.safeParse({
    name: 'm',
    task: 'classify',
    decoder: { type: 'yolox', topK: 3 },
    inputWidth: 640,
    inputHeight: 480,
    classNames: ['a'],
  });
  assert.equal(r.success, false);
  const task = modelMetadataSchema.safeParse({
    name: 'm',
    task: 'classify',
    decoder: { type: 'yolox' },
    inputWidth: 640,
    inputHeight: 480,
    classNames: ['a'],
  });
  assert.equal(task.success, false);
  assert.deepEqual(
    task.error?.issues.map((i) => i.path.join('.')),
    ['task'],
  );
});
