/**
 * Bad input ends in a clear error naming the cause, and the services keep serving: a source that
 * does not exist, a file that is not a video, a model file that is not ONNX.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Bus } from '@sie/bus';
import { PixelOrder, StageEventKind } from '@sie/contracts';
import { asset } from './support/env.js';
import { TestInferenceClient, errorCodeOf } from './support/grpc-client.js';
import { RunWatch } from './support/run-watch.js';
import { startRun, stopRun } from './support/runs.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';

const scratch = mkdtempSync(join(tmpdir(), 'sie-bad-input-'));
let node: NodeStack;
let bus: Bus;
let nodeId: string;
let client: TestInferenceClient;

before(async () => {
  node = await startNodeStack('bad');
  ({ bus, nodeId } = node);
  client = new TestInferenceClient(node.grpcAddress);
});

after(async () => {
  client?.close();
  await node?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function assertStillDetects(): Promise<void> {
  const res = await client.detect({
    modelId: 'yolox',
    input: { $case: 'image', image: { data: readFileSync(asset('media/dog.jpg')) } },
  });
  assert.ok(
    res.detections.some((d) => d.label === 'dog'),
    'the inference service stopped serving',
  );
}

test(
  'a source that does not exist fails the run as source_unreachable, naming the path',
  { timeout: 60_000 },
  async () => {
    const missing = join(scratch, 'no-such-camera.mp4');
    const runId = `missing-${process.pid}`;
    const watch = new RunWatch(bus, runId);
    const answer = await startRun(bus, nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: missing },
      retry: { startupAttempts: 2, reconnectAttempts: 1, intervalMs: 200 },
    });
    assert.equal(answer.accepted, true);
    const failed = await watch.report(StageEventKind.STAGE_EVENT_KIND_FAILED, 30_000);
    assert.equal(failed.error?.code, 'source_unreachable');
    assert.match(failed.error?.message ?? '', /no-such-camera\.mp4|No such file/);
    assert.equal(watch.detections.length, 0);
  },
);

test(
  'a file that is not a video fails the run as source_invalid at once',
  { timeout: 60_000 },
  async () => {
    const text = join(scratch, 'notes.mp4');
    writeFileSync(text, 'these are not the frames you are looking for\n'.repeat(100));
    const runId = `notvideo-${process.pid}`;
    const watch = new RunWatch(bus, runId);
    const started = Date.now();
    const answer = await startRun(bus, nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: text },
      retry: { startupAttempts: 5, reconnectAttempts: 1, intervalMs: 2000 },
    });
    assert.equal(answer.accepted, true);
    const failed = await watch.report(StageEventKind.STAGE_EVENT_KIND_FAILED, 30_000);
    assert.equal(failed.error?.code, 'source_invalid');
    assert.ok(Date.now() - started < 2000 * 2, 'an invalid source must not be retried');
  },
);

test('a forbidden source scheme is refused when the run is started', async () => {
  const answer = await startRun(bus, nodeId, {
    runId: `concat-${process.pid}`,
    modelId: 'yolox',
    source: { url: 'concat:/etc/passwd|/etc/hosts' },
  });
  assert.equal(answer.accepted, false);
  assert.equal(answer.error?.code, 'source_invalid');
});

test('a model file that is not ONNX is refused with model_error naming the cause', async () => {
  const junk = join(scratch, 'junk.onnx');
  writeFileSync(junk, randomBytes(4096));
  await assert.rejects(
    client.loadModel({
      spec: {
        id: 'junk',
        name: 'junk',
        path: junk,
        task: 'detect',
        decoder: {
          type: 'yolox',
          decodedInGraph: true,
          nmsIou: 0.45,
          scoreThreshold: 0.3,
          layout: '',
          topK: 0,
        },
        inputWidth: 416,
        inputHeight: 416,
        classNames: [],
        pixelOrder: PixelOrder.PIXEL_ORDER_BGR,
        pixelScale: 1,
        padValue: 114,
        letterbox: '',
      },
    }),
    (err: unknown) => {
      assert.equal(errorCodeOf(err), 'model_error');
      assert.match((err as Error).message, /junk|protobuf|onnx|parse|load/i);
      return true;
    },
  );
  await assertStillDetects();
});

test(
  'after the failures both services still serve: a good run delivers detections',
  { timeout: 60_000 },
  async () => {
    await assertStillDetects();
    const runId = `good-${process.pid}`;
    const watch = new RunWatch(bus, runId);
    const answer = await startRun(bus, nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: asset('media/vtest.avi'), realtime: true, loop: true },
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.until(
      () => (watch.detections.length >= 5 ? true : undefined),
      30_000,
      '5 detections',
    );
    const stopped = await stopRun(bus, nodeId, runId);
    assert.equal(stopped.stopped, true);
    await watch.report(StageEventKind.STAGE_EVENT_KIND_STOPPED, 10_000);
  },
);
