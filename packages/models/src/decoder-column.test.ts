import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PixelOrder } from '@sie/contracts';
import type { Model } from '@sie/db';
import { decoderColumn, modelMetadataSchema, modelSpecOf, readDecoderColumn } from './index.js';

const row = (over: Partial<Model> = {}): Model => ({
  id: 'mdl_1',
  tenantId: 'ten_1',
  name: 'yolox-nano',
  task: 'detect',
  decoder: { type: 'yolox', decodedInGraph: false, letterbox: 'top-left' },
  inputWidth: 416,
  inputHeight: 416,
  classNames: ['person', 'dog'],
  pixelOrder: 'bgr',
  pixelScale: 1,
  padValue: 114,
  contentHash: 'a'.repeat(64),
  filePath: '/store/aa.onnx',
  sizeBytes: 10,
  createdAt: new Date(0),
  deletedAt: null,
  ...over,
});

test('the decoder column keeps the decoder and the letterbox, and reads back the same', () => {
  const meta = modelMetadataSchema.parse({
    name: 'v8',
    decoder: { type: 'yolo', nmsIou: 0.5 },
    inputWidth: 640,
    inputHeight: 640,
    classNames: ['a'],
    pixelOrder: 'rgb',
    pixelScale: 1 / 255,
    letterbox: 'center',
  });
  assert.equal(meta.task, 'detect');
  const column = decoderColumn(meta);
  assert.deepEqual(column, { type: 'yolo', layout: 'auto', nmsIou: 0.5, letterbox: 'center' });
  assert.deepEqual(readDecoderColumn(column), { decoder: meta.decoder, letterbox: 'center' });
});

test('a column a newer writer extended falls back to the defaults of its type', () => {
  const read = readDecoderColumn({ type: 'classify', future: true, letterbox: 'nowhere' });
  assert.deepEqual(read, {
    decoder: { type: 'classify', softmax: true, topK: 5 },
    letterbox: 'top-left',
  });
  assert.equal(readDecoderColumn({ type: 'unknown' }).decoder.type, 'yolox');
});

test('modelSpecOf: the LoadModel spec of a row, unset options as proto3 zero values', () => {
  const spec = modelSpecOf(row());
  assert.equal(spec.id, 'mdl_1');
  assert.equal(spec.path, '/store/aa.onnx');
  assert.deepEqual(spec.decoder, {
    type: 'yolox',
    decodedInGraph: false,
    nmsIou: 0,
    scoreThreshold: 0,
    layout: '',
    softmax: undefined,
    topK: 0,
  });
  assert.equal(spec.pixelOrder, PixelOrder.PIXEL_ORDER_BGR);
  assert.equal(spec.letterbox, 'top-left');
  assert.deepEqual(spec.classNames, ['person', 'dog']);

  const classify = modelSpecOf(
    row({
      task: 'classify',
      decoder: { type: 'classify', softmax: false, topK: 3, letterbox: 'center' },
      pixelOrder: 'rgb',
    }),
  );
  assert.equal(classify.decoder?.softmax, false);
  assert.equal(classify.decoder?.topK, 3);
  assert.equal(classify.pixelOrder, PixelOrder.PIXEL_ORDER_RGB);
  assert.equal(classify.letterbox, 'center');
});
