/**
 * Model registration end to end, with the real inference service process (started with no model)
 * and the real YOLOX-Nano file: upload → validated by ONNX Runtime → stored under its sha256 →
 * row in Postgres → loaded by inference without a restart → POST /v1/predict finds the dog.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { models } from '@sie/db';
import { resolveSharedAsset } from '@sie/infra';
import { eq } from 'drizzle-orm';
import { COCO_CLASS_NAMES } from '@sie/models';
import { call, iou, postForm, type Box } from './testing/http.js';
import {
  countRows,
  deadInferenceUrl,
  filesUnder,
  startTestApi,
  type TestApi,
} from './testing/harness.js';
import { startInferenceProcess, type InferenceProcess } from './testing/inference-process.js';

const MODEL = resolveSharedAsset('models/yolox_nano_coco.onnx');
const DOG = resolveSharedAsset('media/dog.jpg');
const DOG_BOX: Box = [133, 207, 325, 542];
const modelBytes = readFileSync(MODEL);
const modelHash = createHash('sha256').update(modelBytes).digest('hex');

const yoloxMetadata = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'yolox-nano',
  decoder: { type: 'yolox', decodedInGraph: true },
  inputWidth: 416,
  inputHeight: 416,
  classNames: COCO_CLASS_NAMES,
  pixelOrder: 'bgr',
  pixelScale: 1,
  padValue: 114,
  ...over,
});

function modelForm(file: Buffer, metadata: unknown): FormData {
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  form.append('file', new Blob([file]), 'model.onnx');
  return form;
}

let api: TestApi;
let inference: InferenceProcess;
let modelId = '';

before(async () => {
  inference = await startInferenceProcess();
  api = await startTestApi({ inference: { url: inference.url } });
});

after(async () => {
  await api?.close();
  await inference?.stop();
});

test('a real YOLOX upload is stored under its hash, recorded, loaded, and predicts the dog', async () => {
  const res = await postForm(api.url, '/v1/models', modelForm(modelBytes, yoloxMetadata()));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const body = res.body as { id: string; sha256: string; loaded: boolean; sizeBytes: number };
  modelId = body.id;
  assert.match(body.id, /^mdl_[0-9a-f]{32}$/);
  assert.equal(body.sha256, modelHash);
  assert.equal(body.sizeBytes, modelBytes.length);
  assert.equal(body.loaded, true, JSON.stringify(res.body));
  assert.equal(res.headers.get('location'), `/v1/models/${body.id}`);

  // Stored under its content hash, read-only, and nothing else left behind.
  const stored = join(api.storeDir, `${modelHash}.onnx`);
  assert.ok(existsSync(stored));
  assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
  assert.equal(createHash('sha256').update(readFileSync(stored)).digest('hex'), modelHash);
  const [row] = await api.db.select().from(models).where(eq(models.id, body.id));
  assert.equal(row?.filePath, stored);
  assert.equal(row?.tenantId, 'default');

  // Inference serves it now, without a restart.
  const form = new FormData();
  form.append('modelId', body.id);
  form.append('image', new Blob([readFileSync(DOG)]), 'dog.jpg');
  const predicted = await postForm<{ detections: { label: string; score: number; box: Box }[] }>(
    api.url,
    '/v1/predict',
    form,
  );
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
  const dogs = predicted.body.detections.filter((d) => d.label === 'dog');
  const best = Math.max(...dogs.map((d) => iou(d.box, DOG_BOX)));
  assert.ok(best >= 0.9, `dog IoU ${best}: ${JSON.stringify(predicted.body.detections)}`);

  const listed = await call<{ items: { id: string }[] }>(api.url, 'GET', '/v1/models');
  assert.deepEqual(
    listed.body.items.map((m) => m.id),
    [body.id],
  );
  const got = await call(api.url, 'GET', `/v1/models/${body.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.name, 'yolox-nano');
});

test('the same file again in the same tenant is a conflict naming the existing model', async () => {
  const before = await countRows(api.db);
  const res = await postForm(api.url, '/v1/models', modelForm(modelBytes, yoloxMetadata()));
  assert.equal(res.status, 409);
  assert.equal(res.body.code, 'conflict');
  assert.equal((res.body.details as Record<string, string>).modelId, modelId);
  assert.deepEqual(await countRows(api.db), before);
  assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
});

test('random bytes are refused as model_error and nothing is stored', async () => {
  const before = await countRows(api.db);
  const res = await postForm(api.url, '/v1/models', modelForm(randomBytes(4096), yoloxMetadata()));
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'model_error');
  assert.match(String(res.body.message), /not an ONNX model/);
  assert.deepEqual(await countRows(api.db), before);
  assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
});

test('metadata that disagrees with the graph is refused naming the mismatch', async () => {
  const before = await countRows(api.db);
  const wide = await postForm(
    api.url,
    '/v1/models',
    modelForm(modelBytes, yoloxMetadata({ name: 'wrong size', inputWidth: 640 })),
    'other-tenant',
  );
  assert.equal(wide.status, 400);
  assert.equal(wide.body.code, 'model_error');
  assert.match(String(wide.body.message), /width 416, metadata says inputWidth 640/);

  const classes = await postForm(
    api.url,
    '/v1/models',
    modelForm(modelBytes, yoloxMetadata({ classNames: ['a', 'b'] })),
    'other-tenant',
  );
  assert.equal(classes.status, 400);
  assert.match(String(classes.body.message), /expects \[N, anchors, 7\] for 2 classes/);

  const classifier = await postForm(
    api.url,
    '/v1/models',
    modelForm(modelBytes, yoloxMetadata({ decoder: { type: 'classify' } })),
    'other-tenant',
  );
  assert.equal(classifier.status, 400);
  assert.match(String(classifier.body.message), /classify decoder expects \[N, classes\]/);
  assert.deepEqual(await countRows(api.db), before);
  assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
});

test('bad metadata names every bad field before the file is read', async () => {
  const before = await countRows(api.db);
  const res = await postForm(
    api.url,
    '/v1/models',
    modelForm(modelBytes, {
      name: '',
      decoder: { type: 'yolox', layout: 'v8' },
      inputWidth: 'wide',
      classNames: [],
      colour: 'blue',
    }),
  );
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'invalid_argument');
  const paths = (res.body.issues as { path: string }[]).map((i) => i.path).sort();
  assert.deepEqual(paths, [
    'metadata.classNames',
    'metadata.colour',
    'metadata.decoder.layout',
    'metadata.inputHeight',
    'metadata.inputWidth',
    'metadata.name',
  ]);
  const missing = new FormData();
  missing.append('metadata', JSON.stringify(yoloxMetadata()));
  const noFile = await postForm(api.url, '/v1/models', missing);
  assert.equal(noFile.status, 400);
  assert.deepEqual(noFile.body.issues, [{ path: 'file', message: 'required' }]);
  const broken = new FormData();
  broken.append('metadata', '{"name": oops');
  broken.append('file', new Blob([modelBytes]), 'model.onnx');
  const notJson = await postForm(api.url, '/v1/models', broken);
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.code, 'invalid_json');
  const malformed = await fetch(`${api.url}/v1/models`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    body: '--xyz\r\ncontent-disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
  });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { code: string }).code, 'invalid_argument');
  assert.deepEqual(await countRows(api.db), before);
  assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
});

/** A multipart body by hand, so it can be sent chunked (no content-length). */
function multipartChunks(boundary: string, metadata: unknown, file: Buffer): Buffer[] {
  const head = (name: string, extra = ''): Buffer =>
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"${extra}\r\n\r\n`);
  const chunks = [head('metadata'), Buffer.from(JSON.stringify(metadata)), Buffer.from('\r\n')];
  chunks.push(head('file', '; filename="m.onnx"\r\ncontent-type: application/octet-stream'));
  for (let i = 0; i < file.length; i += 64 << 10) chunks.push(file.subarray(i, i + (64 << 10)));
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return chunks;
}

test('an upload past models.maxUploadBytes is refused with 413 and nothing is kept', async () => {
  const small = await api.variant({
    models: { maxUploadBytes: 1 << 20 },
    inference: { url: inference.url },
  });
  try {
    const before = await countRows(api.db);
    // Declared too large: refused before a byte of the body is read.
    const declared = await postForm(
      small.url,
      '/v1/models',
      modelForm(modelBytes, yoloxMetadata()),
      'big',
    );
    assert.equal(declared.status, 413);
    assert.equal(declared.body.code, 'payload_too_large');
    // Chunked (no declared length): stopped while streaming, the temp file removed.
    const boundary = 'sie-test-boundary';
    const res = await fetch(`${small.url}/v1/models`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'x-sie-tenant': 'big',
      },
      body: Readable.toWeb(
        Readable.from(multipartChunks(boundary, yoloxMetadata(), modelBytes)),
      ) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    // The API drains the rest of the body instead of resetting the socket: the client reads why.
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { code: string }).code, 'payload_too_large');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await countRows(api.db), before);
    assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
  } finally {
    await small.close();
  }
});

test('with inference down the model is still registered, reported as not loaded', async () => {
  const offline = await api.variant({ inference: { url: await deadInferenceUrl() } });
  try {
    const res = await postForm(
      offline.url,
      '/v1/models',
      modelForm(modelBytes, yoloxMetadata()),
      'offline',
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.loaded, false);
    assert.equal((res.body.loadError as { code: string }).code, 'unavailable');
    // Same bytes, other tenant: one file on disk serves both.
    assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
    // The tenant that registered it offline can predict once inference is there: it is loaded on demand.
    const form = new FormData();
    form.append('modelId', String(res.body.id));
    form.append('image', new Blob([readFileSync(DOG)]), 'dog.jpg');
    form.append('classes', 'dog,cat');
    form.append('scoreThreshold', '0.5');
    const predicted = await postForm<{ detections: { label: string }[] }>(
      api.url,
      '/v1/predict',
      form,
      'offline',
    );
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
    assert.ok(predicted.body.detections.length > 0);
    assert.ok(predicted.body.detections.every((d) => d.label === 'dog' || d.label === 'cat'));
  } finally {
    await offline.close();
  }
});

test('predict: unknown model 404, another tenant 404, an image that is not one 400', async () => {
  const image = new Blob([readFileSync(DOG)]);
  const ask = (fields: Record<string, string | Blob>, tenant?: string) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return postForm(api.url, '/v1/predict', form, tenant);
  };
  const unknown = await ask({ modelId: 'mdl_nope', image });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body.issues, [
    { path: 'modelId', message: 'model "mdl_nope" not found' },
  ]);
  const foreign = await ask({ modelId, image }, 'intruder');
  assert.equal(foreign.status, 404);
  const garbage = await ask({ modelId, image: new Blob([randomBytes(1000)]) });
  assert.equal(garbage.status, 400);
  assert.equal(garbage.body.code, 'image_invalid');
  const badFields = await ask({ modelId, image, scoreThreshold: '2', color: 'red' });
  assert.equal(badFields.status, 400);
  assert.deepEqual((badFields.body.issues as { path: string }[]).map((i) => i.path).sort(), [
    'color',
    'scoreThreshold',
  ]);
});

test('a model in use by a pipeline cannot be deleted; an unused one can', async () => {
  const pipeline = await call(api.url, 'POST', '/v1/pipelines', {
    json: { name: 'uses yolox', modelId, config: {} },
  });
  assert.equal(pipeline.status, 201, JSON.stringify(pipeline.body));
  const refused = await call(api.url, 'DELETE', `/v1/models/${modelId}`);
  assert.equal(refused.status, 409);
  assert.equal((refused.body.details as Record<string, string>).pipelines, pipeline.body.id);

  const offlineModel = await call<{ items: { id: string }[] }>(api.url, 'GET', '/v1/models', {
    tenant: 'offline',
  });
  const id = offlineModel.body.items[0]?.id ?? '';
  assert.equal((await call(api.url, 'DELETE', `/v1/models/${id}`)).status, 404, 'other tenant');
  const deleted = await call(api.url, 'DELETE', `/v1/models/${id}`, { tenant: 'offline' });
  assert.equal(deleted.status, 204);
  assert.equal((await call(api.url, 'GET', `/v1/models/${id}`, { tenant: 'offline' })).status, 404);
  // The file stays: the first tenant's model (and old runs) still use it.
  assert.deepEqual(filesUnder(api.storeDir), [`${modelHash}.onnx`]);
});
