/**
 * The scheduler's ensure-model step with real processes: the inference service starts with no
 * model, so a run only works when the scheduler loads its registered model (LoadModel) before
 * the stages start, as after an inference restart; a model file that is not ONNX fails the run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { controlSubject, detectionsSubject } from '@sie/bus';
import { FrameDetections, ModelState, NodePingRequest, NodeStatus } from '@sie/contracts';
import { asset } from './support/env.js';
import { TestInferenceClient, errorCodeOf } from './support/grpc-client.js';
import {
  createPipeline,
  enqueueRun,
  registerModel,
  requestStop,
  startNode,
  startScheduler,
  startStack,
  transitions,
  waitForStatus,
  type Node,
  type Stack,
} from './support/scheduler-stack.js';

let stack: Stack;
let node: Node;
let inference: TestInferenceClient;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sie-sched-models-'));
  stack = await startStack({ preloadModel: false });
  node = await startNode(stack, `models-${process.pid}`);
  await startScheduler(stack, 'sched-models', { SIE_LEASE_MS: '5000' });
  inference = new TestInferenceClient(stack.inferenceUrl ?? '');
});

after(async () => {
  inference?.close();
  await stack?.close();
  rmSync(work, { recursive: true, force: true });
});

async function ingestRuns(): Promise<string[]> {
  const status = await stack.bus.request(
    controlSubject(node.nodeId, 'ingest', 'ping'),
    NodePingRequest,
    {},
    NodeStatus,
    2000,
  );
  return status.runIds;
}

test(
  'a run of an API-registered model inference never loaded: loaded by the scheduler, active, detections',
  { timeout: 90_000 },
  async (t) => {
    const modelId = await registerModel(stack, asset('models/yolox_nano_coco.onnx'));
    await assert.rejects(inference.getModel(modelId), (e) => errorCodeOf(e) === 'model_not_found');
    const pipelineId = await createPipeline(stack, { sampleFps: 2 }, modelId);
    const enqueuedAt = Date.now();
    const id = await enqueueRun(stack, pipelineId, {
      url: asset('media/vtest.avi'),
      loop: true,
      realtime: true,
    });
    const received: FrameDetections[] = [];
    const sub = stack.bus.subscribe(detectionsSubject(id), FrameDetections, (d) => {
      received.push(d);
    });
    try {
      await waitForStatus(stack, id, 'active', 60_000);
      t.diagnostic(`enqueue → active (with LoadModel) in ${Date.now() - enqueuedAt} ms`);
      const info = await inference.getModel(modelId);
      assert.equal(info.state, ModelState.MODEL_STATE_READY);
      const deadline = Date.now() + 20_000;
      while (!received.some((d) => d.detections.length > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const withBoxes = received.find((d) => d.detections.length > 0);
      assert.ok(withBoxes, `no detections in ${received.length} messages`);
      assert.equal(withBoxes.modelId, modelId);
      assert.ok(withBoxes.detections.some((d) => d.label === 'person'));
    } finally {
      sub.unsubscribe();
    }
    await requestStop(stack, id);
    await waitForStatus(stack, id, 'inactive', 20_000);
  },
);

test(
  'a run whose model file is not ONNX fails with model_error naming the cause; nothing started',
  { timeout: 60_000 },
  async () => {
    const junk = join(work, 'junk.onnx');
    writeFileSync(junk, randomBytes(4096));
    const modelId = await registerModel(stack, junk);
    const pipelineId = await createPipeline(stack, {}, modelId);
    const id = await enqueueRun(stack, pipelineId, {
      url: asset('media/vtest.avi'),
      loop: true,
      realtime: true,
    });
    const failed = await waitForStatus(stack, id, 'failed', 30_000);
    assert.equal(failed.reasonCode, 'model_error');
    const message = failed.reasonMessage ?? '';
    assert.match(message, /^inference: /);
    assert.match(message, /not an ONNX model|protobuf/i);
    assert.match(message, /junk\.onnx/);
    assert.deepEqual(
      (await transitions(stack, id)).map((row) => `${row.toStatus}/${row.reasonCode ?? ''}`),
      ['init_startup/created', 'in_startup_processing/placed', 'failed/model_error'],
    );
    assert.ok(!(await ingestRuns()).includes(id), 'ingest was asked to start the run');
  },
);
