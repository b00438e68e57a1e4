import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@sie/config';
import { PixelOrder } from '@sie/contracts';
import { ConfigError, InvalidArgumentError, ModelError } from '@sie/errors';
import { inferenceConfigSchema } from '../config.js';
import { COCO_CLASS_NAMES } from '@sie/models';
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
    decoder: {
      type: 'yolox',
      decodedInGraph: false,
      nmsIou: 0,
      scoreThreshold: 0.25,
      layout: '',
      topK: 0,
    },
    inputWidth: 0,
    inputHeight: 0,
    classNames: [],
    pixelOrder: PixelOrder.PIXEL_ORDER_RGB,
    pixelScale: 0,
    padValue: 0,
    letterbox: '',
  });
  assert.deepEqual(c.decoder, { type: 'yolox', decodedInGraph: false });
  assert.equal(c.task, 'detect');
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

test('yolo and classify decoders: defaults, strict options, the task they imply', () => {
  const yolo = parseModelConfig({ id: 'y', path: '/y.onnx', decoder: { type: 'yolo' } });
  assert.deepEqual(yolo.decoder, { type: 'yolo', layout: 'auto' });
  assert.equal(yolo.task, 'detect');
  assert.equal(yolo.letterbox, 'top-left');
  const cls = parseModelConfig({
    id: 'c',
    path: '/c.onnx',
    decoder: { type: 'classify' },
    letterbox: 'center',
  });
  assert.deepEqual(cls.decoder, { type: 'classify', softmax: true, topK: 5 });
  assert.equal(cls.task, 'classify');
  assert.equal(cls.letterbox, 'center');
  const probs = parseModelConfig({
    id: 'c',
    path: '/c.onnx',
    task: 'classify',
    decoder: { type: 'classify', softmax: false, topK: 1 },
  });
  assert.deepEqual(probs.decoder, { type: 'classify', softmax: false, topK: 1 });
  const refused: [unknown, string][] = [
    [{ type: 'yolo', decodedInGraph: true }, 'spec.decoder'],
    [{ type: 'yolo', layout: 'v7' }, 'spec.decoder.layout'],
    [{ type: 'yolox', topK: 3 }, 'spec.decoder'],
    [{ type: 'classify', topK: 0 }, 'spec.decoder.topK'],
    [{ type: 'classify', softmax: 'yes' }, 'spec.decoder.softmax'],
  ];
  for (const [decoder, field] of refused) {
    assert.throws(
      () => parseModelConfig({ id: 'a', path: '/x', decoder }),
      (e: unknown) => e instanceof InvalidArgumentError && e.field === field,
      JSON.stringify(decoder),
    );
  }
  assert.throws(
    () => parseModelConfig({ id: 'a', path: '/x', task: 'classify' }),
    (e: unknown) =>
      e instanceof InvalidArgumentError &&
      e.field === 'spec.task' &&
      /does not fit decoder yolox/.test(e.message),
  );
  assert.throws(
    () => parseModelConfig({ id: 'a', path: '/x', letterbox: 'middle' }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === 'spec.letterbox',
  );
});

test('a LoadModel spec with a yolo or classify decoder; decoded_in_graph is yolox’s only', () => {
  const base = {
    id: 'm',
    name: '',
    path: '/m.onnx',
    task: '',
    inputWidth: 640,
    inputHeight: 640,
    classNames: ['a', 'b'],
    pixelOrder: PixelOrder.PIXEL_ORDER_RGB,
    pixelScale: 1 / 255,
    padValue: 0,
    letterbox: '',
  };
  const decoder = {
    type: 'yolo',
    decodedInGraph: false,
    nmsIou: 0.7,
    scoreThreshold: 0.25,
    layout: '',
    topK: 0,
  };
  const yolo = modelConfigFromProto({ ...base, decoder });
  assert.deepEqual(yolo.decoder, { type: 'yolo', layout: 'auto' });
  assert.equal(yolo.nmsIou, 0.7);
  assert.equal(yolo.task, 'detect');
  const back = modelConfigToProto(yolo);
  assert.deepEqual(back.decoder, { ...decoder, layout: 'auto', softmax: undefined });
  assert.equal(back.task, 'detect');
  assert.deepEqual(modelConfigFromProto(back), yolo);
  const cls = modelConfigFromProto({ ...base, decoder: { ...decoder, type: 'classify' } });
  assert.deepEqual(cls.decoder, { type: 'classify', softmax: true, topK: 5 });
  assert.equal(modelConfigToProto(cls).task, 'classify');
  assert.throws(
    () => modelConfigFromProto({ ...base, decoder: { ...decoder, decodedInGraph: true } }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === 'spec.decoder',
  );
  assert.throws(
    () => modelConfigFromProto({ ...base, task: 'classify', decoder }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === 'spec.task',
  );
});

test('output shapes are checked against the decoder and the class count', () => {
  const input = { name: 'images', isTensor: true, type: 'float32', shape: [1, 3, 640, 640] };
  const out = (shape: (number | string)[]) => ({
    name: 'output0',
    isTensor: true,
    type: 'float32',
    shape,
  });
  const spec = (decoder: unknown, classes = 80) =>
    parseModelConfig({
      id: 'm',
      path: '/m.onnx',
      decoder,
      inputWidth: 640,
      inputHeight: 640,
      classNames: COCO_CLASS_NAMES.slice(0, classes),
    });
  const yolo = spec({ type: 'yolo' });
  assert.equal(checkModelIo(yolo, [input], [out([1, 84, 8400])]).decoder.type, 'yolo');
  assert.equal(checkModelIo(yolo, [input], [out([1, 25200, 85])]).decoder.type, 'yolo');
  assert.deepEqual(
    checkModelIo(yolo, [input], [out(['batch', 84, 'anchors'])]).io.outputShape,
    [-1, 84, -1],
  );
  assert.throws(
    () => checkModelIo(spec({ type: 'yolo' }, 20), [input], [out([1, 85, 8400])]),
    (e: unknown) =>
      e instanceof ModelError &&
      e.message.startsWith('model m (/m.onnx) does not fit its spec: output output0: ') &&
      e.message.includes('yolo output is [1,85,8400]; 20 classes need [1,24,anchors]') &&
      e.message.includes('[1,anchors,25]'),
  );
  assert.throws(
    () => checkModelIo(yolo, [input], [out([1, 8400])]),
    (e: unknown) =>
      e instanceof ModelError &&
      /output0 is \[1,8400\], yolo expects \[1, 4 \+ classes/.test(e.message),
  );
  const cls = spec({ type: 'classify' }, 4);
  assert.equal(checkModelIo(cls, [input], [out([1, 4])]).decoder.type, 'classify');
  assert.throws(
    () => checkModelIo(cls, [input], [out([1, 1000])]),
    (e: unknown) =>
      e instanceof ModelError &&
      /classify output is \[1,1000\]; 4 classes need \[1,4\]/.test(e.message),
  );
  assert.throws(
    () => checkModelIo(cls, [input], [out([1, 4, 1])]),
    (e: unknown) => e instanceof ModelError && /classify expects \[1, classes\]/.test(e.message),
  );
  assert.throws(
    () => checkModelIo(spec({ type: 'yolox' }), [input], [out([1, 84, 8400])]),
    (e: unknown) => e instanceof ModelError && /80 classes need 85/.test(e.message),
  );
});
