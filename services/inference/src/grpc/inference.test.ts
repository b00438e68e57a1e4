import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { trace, type Attributes, type SpanContext } from '@opentelemetry/api';
import {
  DecoderSpec,
  DetectRequest,
  HealthCheckResponse_ServingStatus as Serving,
  ModelState,
  PixelFormat,
  PixelOrder,
  type DetectResponse,
  type Detection,
  type FrameRef,
} from '@sie/contracts';
import { FrameStoreWriter } from '@sie/framestore';
import {
  createLogger,
  createMetricsRegistry,
  initTracing,
  type Registry,
  type Tracer,
} from '@sie/telemetry';
import sharp from 'sharp';
import { inferenceConfigSchema } from '../config.js';
import { startInferenceServer, type InferenceServer } from '../server.js';
import { bestMatch, iouWith, type Xyxy } from '../testing/boxes.js';
import { TestClient, rejectsWith } from '../testing/client.js';
import { sharedFile } from '../testing/shared-assets.js';

// One real server (2 workers, the decoded and the raw YOLOX-Nano) for every test in this file.

const MODEL = 'yolox';
const RAW = 'yolox-raw';
const dogJpg = readFileSync(sharedFile('media', 'dog.jpg'));
const messiJpg = readFileSync(sharedFile('media', 'messi5.jpg'));
const frameDir = mkdtempSync(join(tmpdir(), 'sie-inference-frames-'));

interface SpanRecord {
  name: string;
  attributes: Attributes;
  parent: SpanContext | undefined;
}
const spans: SpanRecord[] = [];

/** Records what each span was started with, then lets the real tracer make it. */
function recording(tracer: Tracer): Tracer {
  return {
    startSpan: (name, options, ctx) => {
      spans.push({
        name,
        attributes: options?.attributes ?? {},
        parent: ctx ? trace.getSpanContext(ctx) : undefined,
      });
      return tracer.startSpan(name, options, ctx);
    },
    startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
  };
}

let server: InferenceServer;
let client: TestClient;
let metrics: Registry;

before(async () => {
  const config = inferenceConfigSchema.parse({
    grpc: { port: 0, shutdownGraceMs: 1000 },
    frameStoreDir: frameDir,
    workers: { count: 2 },
    models: [
      { id: MODEL, path: sharedFile('models', 'yolox_nano_coco.onnx') },
      {
        id: RAW,
        path: sharedFile('models', 'yolox_nano_coco_raw.onnx'),
        decoder: { type: 'yolox', decodedInGraph: false },
      },
    ],
  });
  const tracing = initTracing({ service: 'inference-test', sampleRatio: 1 });
  metrics = createMetricsRegistry('inference-test');
  server = await startInferenceServer(config, {
    logger: createLogger({ service: 'inference', level: 'silent' }),
    registry: metrics,
    tracer: recording(tracing.tracer),
  });
  client = new TestClient(server.port);
});

after(async () => {
  client.close();
  await server.stop();
});

const image = (data: Buffer, over: Partial<DetectRequest> = {}): Partial<DetectRequest> => ({
  modelId: MODEL,
  input: { $case: 'image', image: { data } },
  ...over,
});

function assertFound(dets: Detection[], label: string, ref: Xyxy, refScore: number): void {
  const d = bestMatch(dets, label, ref);
  assert.ok(d, `no ${label} in ${dets.map((x) => x.label).join(', ')}`);
  const overlap = iouWith(d, ref);
  assert.ok(overlap >= 0.9, `${label}: IoU ${overlap.toFixed(3)} with the reference`);
  assert.ok(Math.abs(d.score - refScore) < 0.1, `${label}: score ${d.score} vs ${refScore}`);
}

const DOG_REFERENCE: [string, Xyxy, number][] = [
  ['dog', [133, 207, 325, 542], 0.83],
  ['car', [466, 78, 692, 172], 0.81],
  ['bicycle', [45, 132, 572, 430], 0.8],
];

function sameDetections(a: Detection[], b: Detection[], tolerancePx: number): void {
  assert.equal(a.length, b.length, 'detection count');
  a.forEach((x, i) => {
    const y = b[i];
    assert.ok(x.box && y?.box);
    assert.equal(x.label, y.label);
    assert.ok(Math.abs(x.score - y.score) < 1e-3, `score ${x.score} vs ${y.score}`);
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) {
      assert.ok(Math.abs(x.box[k] - y.box[k]) <= tolerancePx, `${x.label} ${k}`);
    }
  });
}

test('Detect on dog.jpg finds the dog, the car and the bicycle where the reference does', async () => {
  const res = await client.detect(image(dogJpg, { scoreThreshold: 0.3, requestId: 'r1' }));
  assert.equal(res.requestId, 'r1');
  assert.equal(res.modelId, MODEL);
  assert.equal(res.width, 768);
  assert.equal(res.height, 576);
  for (const [label, box, score] of DOG_REFERENCE) assertFound(res.detections, label, box, score);
  for (const d of res.detections) assert.ok(d.score >= 0.3);
  const t = res.timings;
  assert.ok(t && t.inferenceMs > 0 && t.preprocessMs > 0 && t.readMs > 0 && t.batchSize === 1);
});

test('Detect on messi5.jpg finds the player and the ball', async () => {
  const res = await client.detect(image(messiJpg));
  assert.equal(res.width, 548);
  assert.equal(res.height, 342);
  assertFound(res.detections, 'sports ball', [338, 292, 386, 338], 0.9);
  assertFound(res.detections, 'person', [66, 60, 487, 337], 0.85);
});

test('the raw-output model (decoded on the host) gives the decoded model’s boxes', async () => {
  const decoded = await client.detect(image(dogJpg));
  const raw = await client.detect(image(dogJpg, { modelId: RAW }));
  sameDetections(raw.detections, decoded.detections, 0.5);
});

test('request filters: classes, max detections and score threshold', async () => {
  const dogs = await client.detect(image(dogJpg, { classes: ['dog'] }));
  assert.deepEqual(
    dogs.detections.map((d) => d.label),
    ['dog'],
  );
  const one = await client.detect(image(dogJpg, { maxDetections: 1 }));
  assert.equal(one.detections.length, 1);
  assert.equal(one.detections[0]?.label, 'dog');
  const strict = await client.detect(image(dogJpg, { scoreThreshold: 0.99 }));
  assert.equal(strict.detections.length, 0);
  await rejectsWith(
    client.detect(image(dogJpg, { classes: ['unicorn'] })),
    status.INVALID_ARGUMENT,
    'invalid_argument',
  );
  await rejectsWith(client.detect({ modelId: MODEL }), status.INVALID_ARGUMENT, 'invalid_argument');
});

async function bgrPixels(jpg: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(jpg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i += 3) {
    const r = data[i] as number;
    data[i] = data[i + 2] as number;
    data[i + 2] = r;
  }
  return { data, width: info.width, height: info.height };
}

test('Detect by frame reference reads the frame store; an overwritten frame is refused', async () => {
  const px = await bgrPixels(dogJpg);
  const writer = FrameStoreWriter.create({
    dir: frameDir,
    store: 'run-t1',
    runId: 't1',
    slotCount: 2,
    slotBytes: px.data.byteLength,
  });
  try {
    const frame = (): FrameRef =>
      writer.write({
        data: px.data,
        width: px.width,
        height: px.height,
        pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
        captureTimeMs: Date.now(),
        ptsMs: 0,
      });
    const ref = frame();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const md = new Metadata();
    md.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
    const byRef = await client.detect(
      { modelId: MODEL, input: { $case: 'frame', frame: ref }, requestId: 'f1' },
      md,
    );
    assert.deepEqual(byRef.frame, { ...ref, modelFrame: undefined });
    const byImage = await client.detect(image(dogJpg));
    sameDetections(byRef.detections, byImage.detections, 0.01);

    const span = spans.find((s) => s.attributes['sie.request_id'] === 'f1');
    assert.ok(span, 'a span for the request');
    assert.equal(span.parent?.traceId, traceId);
    assert.equal(span.attributes['sie.run_id'], 't1');
    assert.equal(span.attributes['sie.frame_seq'], ref.seq);

    frame();
    frame(); // seq 3 reuses seq 1's slot
    await rejectsWith(
      client.detect({ modelId: MODEL, input: { $case: 'frame', frame: ref } }),
      status.ABORTED,
      'frame_overwritten',
    );
    const text = await metrics.getSingleMetricAsString('sie_inference_frames_dropped_total');
    assert.match(text, /reason="frame_overwritten"[^\n]* 1/);
    await rejectsWith(
      client.detect({
        modelId: MODEL,
        input: { $case: 'frame', frame: { ...ref, store: 'run-none' } },
      }),
      status.FAILED_PRECONDITION,
      'frame_store_error',
    );
    await rejectsWith(
      client.detect({
        modelId: MODEL,
        input: { $case: 'frame', frame: { ...ref, pixelFormat: PixelFormat.PIXEL_FORMAT_GRAY8 } },
      }),
      status.INVALID_ARGUMENT,
      'invalid_argument',
    );
  } finally {
    writer.close(true);
  }
});

test('a model-size copy made upstream is read instead of the frame when it is the model letterbox', async () => {
  const px = await bgrPixels(dogJpg);
  const opts = { dir: frameDir, runId: 't2', slotCount: 2 };
  const frames = FrameStoreWriter.create({
    ...opts,
    store: 'run-t2',
    slotBytes: px.data.byteLength,
  });
  const copies = FrameStoreWriter.create({
    ...opts,
    store: 'run-t2-model',
    slotBytes: 416 * 416 * 3,
  });
  try {
    const ref = frames.write({
      data: px.data,
      width: px.width,
      height: px.height,
      pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
      captureTimeMs: Date.now(),
      ptsMs: 0,
    });
    // A copy that is all padding: if inference reads it, it finds nothing; the frame has a dog.
    const blank = Buffer.alloc(416 * 416 * 3, 114);
    const copy = { ...ref, width: 416, height: 416, byteLength: blank.byteLength };
    copies.write({ ...copy, data: blank }, ref.seq);
    const modelFrame = {
      store: 'run-t2-model',
      width: 416,
      height: 416,
      byteLength: blank.byteLength,
      pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
      placement: 'top-left',
      padValue: 114,
    };
    const detect = (m: typeof modelFrame) =>
      client.detect({
        modelId: MODEL,
        input: { $case: 'frame', frame: { ...ref, modelFrame: m } },
      });
    const used = await detect(modelFrame);
    assert.deepEqual(used.detections, [], 'the copy was read, not the frame');
    assert.deepEqual([used.width, used.height], [px.width, px.height], 'sizes of the frame');
    // Not this model's letterbox, or a copy that is gone: the frame itself is letterboxed.
    for (const other of [
      { ...modelFrame, placement: 'center' },
      { ...modelFrame, padValue: 0 },
      { ...modelFrame, width: 320, byteLength: 320 * 416 * 3 },
      { ...modelFrame, store: 'run-t2-gone' },
    ]) {
      const res = await detect(other);
      assert.ok(
        res.detections.some((d) => d.label === 'dog'),
        `the dog, from the frame (${JSON.stringify(other)})`,
      );
    }
    // A copy overwritten before it is read is the frame's drop, as for the frame itself.
    copies.write({ ...copy, data: blank }, ref.seq + 2);
    await rejectsWith(detect(modelFrame), status.ABORTED, 'frame_overwritten');
  } finally {
    frames.close(true);
    copies.close(true);
  }
});

test('a payload that is not an image is INVALID_ARGUMENT image_invalid; serving goes on', async () => {
  const err = await rejectsWith(
    client.detect(image(Buffer.from('definitely not a JPEG'))),
    status.INVALID_ARGUMENT,
    'image_invalid',
  );
  assert.match(err.details, /cannot decode image/);
  await rejectsWith(
    client.detect(image(Buffer.alloc(0))),
    status.INVALID_ARGUMENT,
    'image_invalid',
  );
  assert.ok((await client.detect(image(dogJpg))).detections.length >= 3);
});

test('an unknown model is NOT_FOUND model_not_found; serving goes on', async () => {
  await rejectsWith(
    client.detect(image(dogJpg, { modelId: 'no-such-model' })),
    status.NOT_FOUND,
    'model_not_found',
  );
  await rejectsWith(client.getModel('no-such-model'), status.NOT_FOUND, 'model_not_found');
  await rejectsWith(client.unloadModel('no-such-model'), status.NOT_FOUND, 'model_not_found');
  assert.ok((await client.detect(image(dogJpg))).detections.length >= 3);
});

test('LoadModel of a file that is not ONNX fails with model_error naming the cause', async () => {
  const junk = join(mkdtempSync(join(tmpdir(), 'sie-junk-')), 'junk.onnx');
  writeFileSync(junk, randomBytes(4096));
  const err = await rejectsWith(
    client.loadModel({ id: 'junk', path: junk }),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  assert.match(err.details, /not an ONNX model|protobuf/i);
  assert.match(err.details, /junk\.onnx/);
  const info = await client.getModel('junk');
  assert.equal(info.state, ModelState.MODEL_STATE_FAILED);
  assert.equal(info.error?.code, 'model_error');
  await rejectsWith(
    client.detect(image(dogJpg, { modelId: 'junk' })),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  await client.unloadModel('junk');
  await rejectsWith(
    client.loadModel({ id: 'missing', path: '/nonexistent/model.onnx' }),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  await rejectsWith(
    client.loadModel({ id: 'bad id', path: junk }),
    status.INVALID_ARGUMENT,
    'invalid_argument',
  );
  assert.ok((await client.detect(image(dogJpg))).detections.length >= 3);
});

test('LoadModel checks shapes; loads, serves and unloads a model at run time', async () => {
  const dyn = sharedFile('models', 'yolox_nano_coco_dyn.onnx');
  const wrong = await rejectsWith(
    client.loadModel({ id: 'dyn', path: dyn, inputWidth: 640, inputHeight: 640 }),
    status.FAILED_PRECONDITION,
    'model_error',
  );
  assert.match(wrong.details, /does not fit its spec/);
  const info = await client.loadModel({
    id: 'dyn',
    path: dyn,
    pixelOrder: PixelOrder.PIXEL_ORDER_BGR,
  });
  assert.equal(info.state, ModelState.MODEL_STATE_READY);
  assert.equal(info.executionProvider, 'cpu');
  assert.deepEqual(info.inputShape, [-1, 3, 416, 416]);
  assert.deepEqual(info.outputShape, [-1, 3549, 85]);
  assert.equal(info.error, undefined);
  const viaDyn = await client.detect(image(dogJpg, { modelId: 'dyn' }));
  sameDetections(viaDyn.detections, (await client.detect(image(dogJpg))).detections, 0.5);
  // Reloading the same id with another option swaps generations without a gap.
  const [reloaded, during] = await Promise.all([
    client.loadModel({ id: 'dyn', path: dyn, decoder: DecoderSpec.fromPartial({ nmsIou: 0.5 }) }),
    client.detect(image(dogJpg, { modelId: 'dyn' })),
  ]);
  assert.equal(reloaded.state, ModelState.MODEL_STATE_READY);
  assert.ok(during.detections.length >= 3);
  assert.equal((await client.check('dyn')).status, Serving.SERVING);
  await client.unloadModel('dyn');
  await rejectsWith(
    client.detect(image(dogJpg, { modelId: 'dyn' })),
    status.NOT_FOUND,
    'model_not_found',
  );
});

test('ListModels, GetModel and health checks report the configured models', async () => {
  const models = await client.listModels();
  const ids = models.map((m) => m.spec?.id);
  assert.ok(ids.includes(MODEL) && ids.includes(RAW));
  const info = await client.getModel(RAW);
  assert.equal(info.state, ModelState.MODEL_STATE_READY);
  assert.equal(info.spec?.decoder?.decodedInGraph, false);
  assert.equal(info.spec?.classNames.length, 80);
  assert.equal(info.inputName, 'images');
  assert.equal((await client.check('')).status, Serving.SERVING);
  assert.equal((await client.check('sie.v1.Inference')).status, Serving.SERVING);
  assert.equal((await client.check(MODEL)).status, Serving.SERVING);
  await assert.rejects(client.check('nope'), (e: { code?: number }) => e.code === status.NOT_FOUND);
  const watch = client.health.watch({ service: MODEL });
  const first = await new Promise<number>((resolve) =>
    watch.once('data', (r: { status: number }) => resolve(r.status)),
  );
  watch.on('error', () => undefined); // the cancel below ends it with CANCELLED
  watch.cancel();
  assert.equal(first, Serving.SERVING);
  assert.deepEqual(server.checks(), {
    grpc: 'ok',
    [`model:${MODEL}`]: 'ok',
    [`model:${RAW}`]: 'ok',
  });
});

test('DetectStream answers every request by id; a failing one gets `error` and the stream goes on', async () => {
  const call = client.inference.detectStream();
  const answers: DetectResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: DetectResponse) => answers.push(r));
    call.on('end', resolve);
    call.on('error', reject);
  });
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  for (const id of ids) {
    const bad = id === 's3';
    call.write(
      DetectRequest.fromPartial(
        image(bad ? Buffer.from('garbage') : id === 's5' ? messiJpg : dogJpg, { requestId: id }),
      ),
    );
  }
  call.end();
  await done;
  assert.deepEqual(answers.map((a) => a.requestId).sort(), ids);
  for (const a of answers) {
    if (a.requestId === 's3') {
      assert.equal(a.error?.code, 'image_invalid');
      assert.equal(a.detections.length, 0);
    } else {
      assert.equal(a.error, undefined);
      assert.ok(a.detections.length >= 2, `${a.requestId} has detections`);
    }
  }
  const counted = await metrics.getSingleMetricAsString('sie_inference_requests_total');
  assert.match(counted, /model="yolox",outcome="image_invalid"/);
});
