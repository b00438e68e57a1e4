import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ModelNotFoundError, UnavailableError } from '@sie/errors';
import { createLogger } from '@sie/telemetry';
import { parseModelConfig } from '../models/spec.js';
import { sharedFile } from '../testing/shared-assets.js';
import type { DetectJob } from './protocol.js';
import { WorkerPool } from './pool.js';

const config = parseModelConfig({ id: 'm', path: sharedFile('models', 'yolox_nano_coco.onnx') });
let restarts = 0;
const refused: string[] = [];
const pool = new WorkerPool({
  size: 1,
  queueLimit: 1,
  jobTimeoutMs: 10_000,
  init: {
    frameStoreDir: '/nonexistent',
    frameStoreAccess: 'auto',
    intraOpThreads: 1,
    executionProvider: 'cpu',
    cpuFallback: true,
  },
  logger: createLogger({ service: 'inference', level: 'silent' }),
  onWorkerRestart: () => restarts++,
  onRefused: (r) => refused.push(r),
});

const job = (modelKey = 'm#1'): DetectJob => ({
  modelKey,
  modelId: 'm',
  input: {
    kind: 'pixels',
    image: { data: new Uint8Array(64 * 48 * 3), width: 64, height: 48, order: 'rgb' },
  },
  scoreThreshold: 0.3,
  nmsIou: 0.45,
  maxDetections: 0,
  classIds: null,
});

before(async () => {
  await pool.start();
  const { io } = await pool.load('m#1', config);
  assert.equal(io.inputName, 'images');
});

after(() => pool.close());

test('a job runs on a worker and reports its timings', async () => {
  const { result, queueMs } = await pool.run(job());
  assert.equal(result.width, 64);
  assert.ok(result.timings.inferenceMs > 0);
  assert.ok(queueMs >= 0);
});

test('a job for a model the worker does not hold is model_not_found', async () => {
  await assert.rejects(pool.run(job('other#1')), ModelNotFoundError);
});

test('beyond the queue limit jobs are refused, not queued', async () => {
  const running = pool.run(job());
  const queued = pool.run(job());
  await assert.rejects(pool.run(job()), UnavailableError);
  assert.deepEqual(refused, ['queue_full']);
  await Promise.all([running, queued]);
});

test('a worker that dies is replaced, with its models loaded again', async () => {
  // The worker is ended while idle: ending a thread while it is inside ONNX Runtime's native
  // session.run can abort the whole process (a Napi::Error thrown during teardown), so a test
  // cannot end one mid-job reliably. A job in flight on a dying worker is rejected by the same
  // exit handler that respawns the worker (`worker N stopped`).
  const thread = pool.threads[0];
  assert.ok(thread);
  await thread.terminate();
  // The next job waits for the replacement, which has loaded the model again.
  const { result } = await pool.run(job());
  assert.equal(result.height, 48);
  assert.equal(restarts, 1);
  assert.notEqual(pool.threads[0], thread);
});
