/**
 * A run's whole life through the real scheduler and node processes: placed, active on the sample
 * video, stopped, with every transition recorded and announced on JetStream in order; a source
 * that never answers fails after its startup attempts; a stop while the run is starting.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { controlSubject, detectionsSubject, runStatusSubject } from '@sie/bus';
import {
  FrameDetections,
  NodePingRequest,
  NodeStatus,
  RunState,
  RunStatusChange,
} from '@sie/contracts';
import { findFreePort } from '@sie/infra';
import { asset } from './support/env.js';
import {
  createPipeline,
  enqueueRun,
  ffmpegChildren,
  getRun,
  requestStop,
  startNode,
  startScheduler,
  startStack,
  transitions,
  until,
  waitForStatus,
  type Node,
  type Stack,
} from './support/scheduler-stack.js';

let stack: Stack;
let node: Node;

before(async () => {
  stack = await startStack();
  node = await startNode(stack, `life-${process.pid}`);
  await startScheduler(stack, 'sched-life', { SIE_LEASE_MS: '5000' });
});

after(async () => {
  await stack?.close();
});

async function ping(stage: 'ingest' | 'rules' | 'render'): Promise<NodeStatus> {
  return stack.bus.request(
    controlSubject(node.nodeId, stage, 'ping'),
    NodePingRequest,
    {},
    NodeStatus,
    2000,
  );
}

/** The run's status changes as a JetStream subscriber sees them (ordered consumer, from the start). */
async function statusEvents(runId: string, expected: number): Promise<RunStatusChange[]> {
  const js = stack.bus.nc.jetstream();
  const consumer = await js.consumers.get('SIE_STATUS', {
    filterSubjects: runStatusSubject(stack.tenantId, runId),
  });
  const out: RunStatusChange[] = [];
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), 10_000);
  for await (const m of messages) {
    out.push(RunStatusChange.decode(m.data));
    if (out.length >= expected) break;
  }
  clearTimeout(timer);
  // A duplicate would come after the expected ones: look for one.
  const extra = await consumer.next({ expires: 1000 }).catch(() => null);
  if (extra) out.push(RunStatusChange.decode(extra.data));
  return out;
}

test(
  'enqueue → active on the sample video → stop → inactive, in order in Postgres and on JetStream',
  { timeout: 90_000 },
  async (t) => {
    const pipelineId = await createPipeline(stack, { sampleFps: 2 });
    const enqueuedAt = Date.now();
    const id = await enqueueRun(stack, pipelineId, {
      url: asset('media/vtest.avi'),
      loop: true,
      realtime: true,
    });
    let detections = 0;
    stack.bus.subscribe(detectionsSubject(id), FrameDetections, () => void detections++);
    const active = await waitForStatus(stack, id, 'active', 45_000);
    const activeAfter = Date.now() - enqueuedAt;
    assert.equal(active.nodeId, node.nodeId);
    assert.equal(active.leaseGeneration, 1);
    assert.equal(active.leaseOwner, 'sched-life');
    // The pipeline really runs: the node holds the run on every stage, frames are detected.
    for (const stage of ['ingest', 'rules', 'render'] as const) {
      assert.deepEqual((await ping(stage)).runIds, [id], stage);
    }
    assert.equal(ffmpegChildren(node.ingest.child.pid!).length, 1);
    const deadline = Date.now() + 20_000;
    while (detections < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(detections >= 2, `only ${detections} detection messages`);

    const stopAt = Date.now();
    await requestStop(stack, id);
    const done = await waitForStatus(stack, id, 'inactive', 20_000);
    const stopTook = Date.now() - stopAt;
    assert.equal(done.leaseOwner, null);
    assert.ok(done.endedAt);
    for (const stage of ['ingest', 'rules', 'render'] as const) {
      assert.deepEqual((await ping(stage)).runIds, [], stage);
    }
    assert.equal(ffmpegChildren(node.ingest.child.pid!).length, 0, 'ffmpeg left running');

    const history = await transitions(stack, id);
    assert.deepEqual(
      history.map((t) => [t.fromStatus, t.toStatus, t.reasonCode]),
      [
        [null, 'init_startup', 'created'],
        ['init_startup', 'in_startup_processing', 'placed'],
        ['in_startup_processing', 'active', 'source_connected'],
        ['active', 'init_shutdown', 'stop_requested'],
        ['init_shutdown', 'in_shutdown_processing', 'stop_requested'],
        ['in_shutdown_processing', 'inactive', 'stop_requested'],
      ],
    );

    const events = await statusEvents(id, history.length);
    assert.equal(events.length, history.length, 'duplicate or missing status events');
    assert.deepEqual(
      events.map((e) => e.to),
      [
        RunState.RUN_STATE_INIT_STARTUP,
        RunState.RUN_STATE_IN_STARTUP_PROCESSING,
        RunState.RUN_STATE_ACTIVE,
        RunState.RUN_STATE_INIT_SHUTDOWN,
        RunState.RUN_STATE_IN_SHUTDOWN_PROCESSING,
        RunState.RUN_STATE_INACTIVE,
      ],
    );
    assert.deepEqual(
      events.map((e) => e.id),
      history.map((t) => `status-${id}-${t.id}`),
    );
    t.diagnostic(`lifecycle: enqueue → active ${activeAfter} ms; stop → inactive ${stopTook} ms`);
  },
);

test(
  'an unreachable source fails after its 3 startup attempts 1 s apart: failed/source_unreachable',
  { timeout: 60_000 },
  async (t) => {
    const pipelineId = await createPipeline(stack, {
      retry: { startupAttempts: 3, intervalMs: 1000 },
    });
    const port = await findFreePort(); // nothing listens there
    const enqueuedAt = Date.now();
    const id = await enqueueRun(stack, pipelineId, { url: `rtsp://127.0.0.1:${port}/cam` });
    const failed = await waitForStatus(stack, id, 'failed', 30_000);
    const history = await transitions(stack, id);
    const last = history[history.length - 1];
    assert.equal(last?.toStatus, 'failed');
    const took = last.at.getTime() - enqueuedAt;
    t.diagnostic(`unreachable source (3 attempts, 1 s apart): enqueue → failed in ${took} ms`);
    assert.equal(failed.reasonCode, 'source_unreachable');
    assert.match(failed.reasonMessage ?? '', /3 attempt/);
    assert.ok(took >= 2000 && took <= 10_000, `failed after ${took} ms`);
    assert.deepEqual(
      history.map((t) => t.toStatus),
      ['init_startup', 'in_startup_processing', 'failed'],
    );
    // The other stages let go of the run too.
    const deadline = Date.now() + 5000;
    while ((await ping('render')).runIds.includes(id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(!(await ping('render')).runIds.includes(id));
    assert.ok(!(await ping('rules')).runIds.includes(id));
  },
);

test(
  'a stop requested while the run is starting ends it inactive',
  { timeout: 60_000 },
  async () => {
    const pipelineId = await createPipeline(stack, {
      retry: { startupAttempts: 50, intervalMs: 500 },
    });
    const port = await findFreePort();
    const id = await enqueueRun(stack, pipelineId, { url: `rtsp://127.0.0.1:${port}/cam` });
    await waitForStatus(stack, id, 'in_startup_processing', 20_000);
    // The run is in_startup_processing from its placement on, before the starts are sent.
    await until(
      'ingest trying the source',
      async () => (await ping('ingest')).runIds.includes(id),
      10_000,
    );
    await requestStop(stack, id);
    const done = await waitForStatus(stack, id, 'inactive', 20_000);
    assert.equal(done.reasonCode, 'stop_requested');
    assert.ok(!(await ping('ingest')).runIds.includes(id), 'ingest still tries the source');
    assert.deepEqual(
      (await transitions(stack, id)).map((t) => t.toStatus),
      [
        'init_startup',
        'in_startup_processing',
        'init_shutdown',
        'in_shutdown_processing',
        'inactive',
      ],
    );
    // A run stopped before any node took it goes straight to inactive.
    const unplaced = await enqueueRun(stack, pipelineId, { url: `rtsp://127.0.0.1:${port}/x` });
    await requestStop(stack, unplaced);
    const r = await getRun(stack, unplaced);
    if (r.status === 'init_shutdown') {
      await waitForStatus(stack, unplaced, 'inactive', 10_000);
    } else {
      // The scheduler was faster than the stop: it is a stop while starting again.
      await waitForStatus(stack, unplaced, 'inactive', 20_000);
    }
  },
);
