import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ModelState, PixelOrder, type DetectRequest, type Detection } from '@sie/contracts';
import { createLogger, createMetricsRegistry, initTracing } from '@sie/telemetry';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { inferenceConfigSchema } from '../config.js';
import { startInferenceServer, type InferenceServer } from '../server.js';
import { TestClient, rejectsWith } from '../testing/client.js';
import { constantModel } from '../testing/onnx-builder.js';

// The yolo and classify decoders end to end through Detect, on ONNX graphs built here whose
// output is a known constant: every box, label and score below is exact.

const dir = mkdtempSync(join(tmpdir(), 'sie-decoders-'));
const SIZE = 64;
const INPUT = [1, 3, SIZE, SIZE];
const CLASSES = ['cat', 'dog', 'bird'];

/** [1, 4 + 3, 10]: row v holds value v of every anchor. */
function v8Output(): Float32Array {
  const n = 10;
  const out = new Float32Array(7 * n);
  const anchor = (i: number, values: number[]) => values.forEach((v, k) => (out[k * n + i] = v));
  anchor(1, [20, 12, 16, 8, 0.125, 0.875, 0.25]); // dog 0.875
  anchor(4, [21, 12, 16, 8, 0, 0.75, 0]); // dog 0.75, IoU 0.88 with anchor 1: suppressed
  anchor(6, [40, 30, 8, 12, 0.5, 0, 0.25]); // cat 0.5
  anchor(8, [50, 40, 4, 4, 0.125, 0.125, 0.2]); // under the threshold
  return out;
}

/** [1, 10, 5 + 3]: one row per anchor, objectness before the class scores. */
function v5Output(): Float32Array {
  const out = new Float32Array(10 * 8);
  out.set([20, 12, 16, 8, 0.5, 0.25, 0.75, 0.5], 0 * 8); // dog 0.5 × 0.75
  out.set([21, 12, 16, 8, 1, 0, 0.25, 0], 3 * 8); // dog 0.25: suppressed by anchor 0
  out.set([40, 30, 8, 12, 0.75, 0, 0, 1], 7 * 8); // bird 0.75
  out.set([50, 40, 4, 4, 0.2, 1, 1, 1], 9 * 8); // objectness under the threshold
  return out;
}

const LOGITS = [0.5, 2, -1, 1];
const CLS_CLASSES = ['cat', 'dog', 'bird', 'fish'];
const PROBS = ((): number[] => {
  const e = LOGITS.map((x) => Math.exp(x));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
})();

const files = {
  v8: join(dir, 'yolo-v8.onnx'),
  v5: join(dir, 'yolo-v5.onnx'),
  cls: join(dir, 'classify.onnx'),
};

let server: InferenceServer;
let client: TestClient;
let png: Buffer;

before(async () => {
  writeFileSync(
    files.v8,
    constantModel({ inputShape: INPUT, dims: [1, 7, 10], values: v8Output() }),
  );
  writeFileSync(
    files.v5,
    constantModel({ inputShape: INPUT, dims: [1, 10, 8], values: v5Output() }),
  );
  writeFileSync(files.cls, constantModel({ inputShape: INPUT, dims: [1, 4], values: LOGITS }));
  // 128×96 into 64×64: ratio 0.5, the image 64×48 (top-left, or 8 px down when centred).
  png = await sharp({
    create: { width: 128, height: 96, channels: 3, background: { r: 40, g: 90, b: 200 } },
  })
    .png()
    .toBuffer();
  const ultralytics = {
    inputWidth: SIZE,
    inputHeight: SIZE,
    classNames: CLASSES,
    pixelOrder: 'rgb',
    pixelScale: 1 / 255,
    scoreThreshold: 0.25,
  };
  const config = inferenceConfigSchema.parse({
    grpc: { port: 0, shutdownGraceMs: 1000 },
    frameStoreDir: dir,
    workers: { count: 1 },
    models: [
      {
        id: 'yolo-center',
        path: files.v8,
        decoder: { type: 'yolo', layout: 'v8' },
        letterbox: 'center',
        ...ultralytics,
      },
      {
        id: 'cls-top2',
        path: files.cls,
        decoder: { type: 'classify', topK: 2 },
        inputWidth: SIZE,
        inputHeight: SIZE,
        classNames: CLS_CLASSES,
        scoreThreshold: 0,
      },
    ],
  });
  server = await startInferenceServer(config, {
    logger: createLogger({ service: 'inference', level: 'silent' }),
    registry: createMetricsRegistry('inference-decoders-test'),
    tracer: initTracing({ service: 'inference-decoders-test', sampleRatio: 0 }).tracer,
  });
  client = new TestClient(server.port);
});

after(async () => {
  client.close();
  await server.stop();
});

/** A LoadModel spec as an Ultralytics export would need it. */
function yoloSpec(id: string, path: string, classNames = CLASSES) {
  return {
    id,
    path,
    decoder: {
      type: 'yolo',
      decodedInGraph: false,
      nmsIou: 0.45,
      scoreThreshold: 0.25,
      layout: '',
      topK: 0,
    },
    inputWidth: SIZE,
    inputHeight: SIZE,
    classNames,
    pixelOrder: PixelOrder.PIXEL_ORDER_RGB,
    pixelScale: 1 / 255,
    padValue: 114,
  };
}

const detect = (modelId: string, over: Partial<DetectRequest> = {}) =>
  client.detect({ modelId, input: { $case: 'image', image: { data: png } }, ...over });

type Row = [string, number, number, number, number, number];
const rows = (dets: Detection[]): Row[] =>
  dets.map((d) => [
    d.label,
    d.score,
    d.box?.x1 ?? NaN,
    d.box?.y1 ?? NaN,
    d.box?.x2 ?? NaN,
    d.box?.y2 ?? NaN,
  ]);

test('the built graphs run in ONNX Runtime and answer their constant', async () => {
  const session = await InferenceSession.create(files.v8);
  try {
    assert.deepEqual(session.inputNames, ['images']);
    const image = new Tensor('float32', new Float32Array(3 * SIZE * SIZE), INPUT);
    const result = await session.run({ images: image });
    assert.deepEqual(result.output?.dims, [1, 7, 10]);
    assert.deepEqual(result.output?.data, v8Output());
  } finally {
    await session.release();
  }
});

test('yolo v8 layout through LoadModel and Detect: exact boxes, NMS, letterbox undone', async () => {
  const info = await client.loadModel(yoloSpec('yolo-v8', files.v8));
  assert.equal(info.state, ModelState.MODEL_STATE_READY);
  assert.deepEqual(info.outputShape, [1, 7, 10]);
  assert.equal(info.spec?.decoder?.type, 'yolo');
  assert.equal(info.spec?.task, 'detect');
  const res = await detect('yolo-v8');
  assert.equal(res.width, 128);
  assert.equal(res.height, 96);
  // Network boxes [12,8,28,16] and [36,24,44,36], divided by the ratio 0.5.
  assert.deepEqual(rows(res.detections), [
    ['dog', 0.875, 24, 16, 56, 32],
    ['cat', 0.5, 72, 48, 88, 72],
  ]);
  assert.deepEqual(
    (await detect('yolo-v8', { classes: ['cat'] })).detections.map((d) => d.label),
    ['cat'],
  );
  assert.deepEqual(
    (await detect('yolo-v8', { maxDetections: 1 })).detections.map((d) => d.label),
    ['dog'],
  );
  assert.deepEqual(
    (await detect('yolo-v8', { scoreThreshold: 0.6 })).detections.map((d) => d.label),
    ['dog'],
  );
});

test('a centred letterbox (config) shifts the boxes back by its padding', async () => {
  const res = await detect('yolo-center');
  // The image sits 8 px down in the network input: y = (y_net - 8) / 0.5.
  assert.deepEqual(rows(res.detections), [
    ['dog', 0.875, 24, 0, 56, 16],
    ['cat', 0.5, 72, 32, 88, 56],
  ]);
});

test('yolo v5 layout: score = objectness × class score', async () => {
  await client.loadModel(yoloSpec('yolo-v5', files.v5));
  const res = await detect('yolo-v5');
  assert.deepEqual(rows(res.detections), [
    ['bird', 0.75, 72, 48, 88, 72],
    ['dog', 0.375, 24, 16, 56, 32],
  ]);
});

test('classify: softmax of the logits, top k as whole-image detections', async () => {
  const info = await client.loadModel({
    id: 'cls',
    path: files.cls,
    decoder: {
      type: 'classify',
      decodedInGraph: false,
      nmsIou: 0,
      scoreThreshold: 0.1,
      layout: '',
      topK: 0,
    },
    inputWidth: SIZE,
    inputHeight: SIZE,
    classNames: CLS_CLASSES,
  });
  assert.equal(info.spec?.task, 'classify');
  assert.deepEqual(info.outputShape, [1, 4]);
  const check = (dets: Detection[], labels: string[]) => {
    assert.deepEqual(
      dets.map((d) => d.label),
      labels,
    );
    for (const d of dets) {
      const p = PROBS[d.classId] as number;
      assert.ok(Math.abs(d.score - p) < 1e-6, `${d.label}: ${d.score} vs ${p}`);
      assert.deepEqual(d.box, { x1: 0, y1: 0, x2: 128, y2: 96 });
    }
  };
  // p = 0.136, 0.609, 0.030, 0.224: the model's threshold 0.1 leaves three of the top 5.
  check((await detect('cls')).detections, ['dog', 'fish', 'cat']);
  check((await detect('cls', { scoreThreshold: 0.2 })).detections, ['dog', 'fish']);
  check((await detect('cls', { classes: ['cat', 'bird'] })).detections, ['cat']);
  check((await detect('cls', { maxDetections: 1 })).detections, ['dog']);
  // topK 2 from the config file, threshold 0.
  check((await detect('cls-top2')).detections, ['dog', 'fish']);
});

test('LoadModel of a network that does not fit its decoder names expected and actual shapes', async () => {
  const twenty = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const err = await rejectsWith(
    client.loadModel(yoloSpec('yolo-20', files.v8, twenty)),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  assert.match(err.details, /yolo output is \[1,7,10\]; 20 classes need \[1,24,anchors\]/);
  assert.match(err.details, /\[1,anchors,25\]/);
  const cls = await rejectsWith(
    client.loadModel({
      ...yoloSpec('cls-bad', files.cls),
      decoder: { ...yoloSpec('', '').decoder, type: 'classify' },
    }),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  assert.match(cls.details, /classify output is \[1,4\]; 3 classes need \[1,3\]/);
  const rank = await rejectsWith(
    client.loadModel(yoloSpec('yolo-on-cls', files.cls, CLS_CLASSES)),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  assert.match(rank.details, /output is \[1,4\], yolo expects/);
});
