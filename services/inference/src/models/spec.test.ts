import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@sie/config';
import { PixelOrder } from '@sie/contracts';
import { ConfigError, InvalidArgumentError, ModelError } from '@sie/errors';
import { inferenceConfigSchema } from '../config.js';
import { COCO_CLASS_NAMES } from './coco.js';
import { checkModelIo } from './model-io.js';
import { modelConfigFromProto, modelConfigToProto, parseModelConfig } from './spec.js';

test('config defaults: ports, one intra-op thread, CPU, no models', () => {
  const c = loadConfig({ schema: inferenceConfigSchema, env: {}, argv: [] });
  assert.equal(c.grpc.port, 50051);
  assert.equal(c.grpc.host, '127.0.0.1');
  assert.equal(c.ops.port, 9102);
  assert.equal(c.workers.intraOpThreads, 1);
  assert.ok(c.workers.count >= 1);
  assert.equal(c.executionProvider, 'cpu');
  assert.deepEqual(c.models, []);
});

test('SIE_MODELS takes a JSON array of models; omitted keys get the YOLOX defaults', () => {
  const c = loadConfig({
    schema: inferenceConfigSchema,
    env: {
      SIE_MODELS: '[{"id":"yolox","path":"/m/y.onnx"}]',
      SIE_GRPC__PORT: '6000',
      SIE_EXECUTION_PROVIDER: 'cuda',
    },
    argv: [],
  });
  assert.equal(c.grpc.port, 6000);
  assert.equal(c.executionProvider, 'cuda');
  const m = c.models[0];
  assert.ok(m);
  assert.equal(m.inputWidth, 416);
  assert.equal(m.pixelOrder, 'bgr');
  assert.equal(m.padValue, 114);
  assert.equal(m.pixelScale, 1);
  assert.deepEqual(m.decoder, { type: 'yolox', decodedInGraph: true });
  assert.equal(m.classNames.length, 80);
  assert.equal(m.classNames[16], 'dog');
});

test('a bad model id in the config names its path', () => {
  assert.throws(
    () =>
      loadConfig({
        schema: inferenceConfigSchema,
        env: { SIE_MODELS: '[{"id":"bad id!","path":"/m"}]' },
        argv: [],
      }),
    (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === 'models.0.id'),
  );
});

test('a LoadModel spec: zero values take defaults, bad values are invalid arguments', () => {
  const c = modelConfigFromProto({
    id: 'm1',
    name: '',
    path: '/x.onnx',
    task: '',
    decoder: { type: 'yolox', decodedInGraph: false, nmsIou: 0, scoreThreshold: 0.25 },
    inputWidth: 0,
    inputHeight: 0,
    classNames: [],
    pixelOrder: PixelOrder.PIXEL_ORDER_RGB,
    pixelScale: 0,
    padValue: 0,
  });
  assert.equal(c.decoder.decodedInGraph, false);
  assert.equal(c.scoreThreshold, 0.25);
  assert.equal(c.nmsIou, 0.45);
  assert.equal(c.pixelOrder, 'rgb');
  assert.equal(c.inputHeight, 416);
  assert.deepEqual(c.classNames, COCO_CLASS_NAMES);
  const back = modelConfigToProto(c);
  assert.equal(back.pixelOrder, PixelOrder.PIXEL_ORDER_RGB);
  assert.deepEqual(modelConfigFromProto(back), c);
  assert.throws(
    () => parseModelConfig({ id: 'a/b', path: '/x' }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === 'spec.id',
  );
  assert.throws(
    () => parseModelConfig({ id: 'a', path: '/x', decoder: { type: 'detr' } }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field.startsWith('spec.decoder'),
  );
  assert.throws(() => modelConfigFromProto(undefined), InvalidArgumentError);
});

test('model shapes are checked against the spec', () => {
  const spec = parseModelConfig({ id: 'm', path: '/m.onnx' });
  const input = { name: 'images', isTensor: true, type: 'float32', shape: ['batch', 3, 416, 416] };
  const output = { name: 'output', isTensor: true, type: 'float32', shape: ['batch', 3549, 85] };
  const ok = checkModelIo(spec, [input], [output]);
  assert.deepEqual(ok.io.inputShape, [-1, 3, 416, 416]);
  assert.throws(
    () => checkModelIo({ ...spec, inputWidth: 640 }, [input], [output]),
    (e: unknown) => e instanceof ModelError && /expected \[1,3,416,640\]/.test(e.message),
  );
  assert.throws(
    () => checkModelIo(spec, [{ ...input, shape: [2, 3, 416, 416] }], [output]),
    ModelError,
  );
  assert.throws(() => checkModelIo(spec, [{ ...input, type: 'uint8' }], [output]), ModelError);
  assert.throws(() => checkModelIo(spec, [input, input], [output]), ModelError);
});
