/**
 * The API as the real process (its compiled main, config from the environment) beside the real
 * inference process: a model uploaded over HTTP is loaded by inference without a restart and
 * finds the dog; a pipeline and a run are created, read and stopped; the HTTP port serves health,
 * metrics and the OpenAPI document, and the ops port still answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePort, freshDatabase, type TestDatabase } from '@sie/infra';
import { asset, natsUrl } from './support/env.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

type Body = Record<string, unknown>;
type Box = [number, number, number, number];

// Class 0 is person and 16 is dog in the COCO order the model was trained on.
const CLASS_NAMES = Array.from({ length: 80 }, (_, i) =>
  i === 0 ? 'person' : i === 16 ? 'dog' : `class${i}`,
);

let database: TestDatabase;
let dataDir: string;
let inference: ServiceProcess;
let api: ServiceProcess;
let base: string;

async function json(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (r: Box): number => (r[2] - r[0]) * (r[3] - r[1]);
  return (w * h) / (area(a) + area(b) - w * h);
}

before(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sie-api-process-'));
  const grpcPort = await findFreePort();
  const httpPort = await findFreePort();
  inference = await startServiceProcess('inference', {
    SIE_GRPC__PORT: String(grpcPort),
    SIE_WORKERS__COUNT: '1',
  });
  api = await startServiceProcess('api', {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl(),
    SIE_HTTP__PORT: String(httpPort),
    SIE_DATA_DIR: dataDir,
    SIE_INFERENCE_URL: `127.0.0.1:${grpcPort}`,
  });
  base = `http://127.0.0.1:${httpPort}`;
});

after(async () => {
  await api?.stop();
  await inference?.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test(
  'upload, predict, pipeline, run, stop against the real processes',
  { timeout: 60_000 },
  async () => {
    const form = new FormData();
    form.append(
      'metadata',
      JSON.stringify({
        name: 'yolox-nano',
        decoder: { type: 'yolox', decodedInGraph: true },
        inputWidth: 416,
        inputHeight: 416,
        classNames: CLASS_NAMES,
      }),
    );
    form.append('file', new Blob([readFileSync(asset('models/yolox_nano_coco.onnx'))]), 'm.onnx');
    const uploaded = await fetch(`${base}/v1/models`, { method: 'POST', body: form });
    const model = (await uploaded.json()) as Body;
    assert.equal(uploaded.status, 201, JSON.stringify(model) + api.output());
    assert.equal(model.loaded, true, JSON.stringify(model));
    assert.deepEqual(readdirSync(join(dataDir, 'models')).sort(), [
      `${String(model.sha256)}.onnx`,
      'tmp',
    ]);

    const image = new FormData();
    image.append('modelId', String(model.id));
    image.append('image', new Blob([readFileSync(asset('media/dog.jpg'))]), 'dog.jpg');
    const predicted = await fetch(`${base}/v1/predict`, { method: 'POST', body: image });
    const prediction = (await predicted.json()) as { detections: { label: string; box: Box }[] };
    assert.equal(predicted.status, 200, JSON.stringify(prediction));
    const dog = Math.max(
      ...prediction.detections
        .filter((d) => d.label === 'dog')
        .map((d) => iou(d.box, [133, 207, 325, 542])),
    );
    assert.ok(dog >= 0.9, `dog IoU ${dog}`);

    const pipeline = await json('POST', '/v1/pipelines', {
      name: 'p',
      modelId: model.id,
      config: {},
    });
    assert.equal(pipeline.status, 201, JSON.stringify(pipeline.body));
    const run = await json('POST', '/v1/runs', {
      pipelineId: pipeline.body.id,
      source: { url: asset('media/vtest.avi') },
    });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const runId = String(run.body.id);
    const got = await json('GET', `/v1/runs/${runId}`);
    assert.equal(got.body.status, 'init_startup');
    assert.equal((got.body.output as Body).rtspUrl, `rtsp://127.0.0.1:8554/${runId}`);
    const stopped = await json('POST', `/v1/runs/${runId}/stop`);
    // No scheduler runs here: the run was never placed, so the API moves it itself.
    assert.equal(stopped.body.status, 'init_shutdown');
    const history = await json('GET', `/v1/runs/${runId}/transitions`);
    assert.equal((history.body.items as unknown[]).length, 2);

    const inUse = await json('DELETE', `/v1/models/${String(model.id)}`);
    assert.equal(inUse.status, 409);
  },
);

test('the HTTP port serves health, metrics and the OpenAPI document; the ops port stays', async () => {
  const health = await json('GET', '/healthz');
  assert.equal(health.status, 200, JSON.stringify(health.body));
  assert.equal((health.body.checks as Body).postgres, 'ok');
  assert.equal((health.body.checks as Body).nats, 'ok');
  const doc = await json('GET', '/openapi.json');
  const paths = Object.keys(doc.body.paths as Body);
  for (const p of [
    '/v1/models',
    '/v1/pipelines/{id}',
    '/v1/runs/{id}/stop',
    '/v1/predict',
    '/v1/sources/probe',
  ]) {
    assert.ok(paths.includes(p), `${p} documented`);
  }
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /sie_api_requests_total\{/);
  const ops = await fetch(`http://127.0.0.1:${api.opsPort}/healthz`);
  assert.equal(ops.status, 200);
  const bad = await fetch(`${base}/v1/pipelines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as Body).code, 'invalid_json');
});
