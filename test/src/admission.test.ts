/**
 * Admission control with the real scheduler, node processes and API: a node whose ingest
 * announces a capacity of 10 fps takes two runs of a 5 fps pipeline; the third stays queued with
 * reason `no_capacity` (GET /v1/runs/:id, the scheduler's metrics, GET /v1/nodes/:id), and is
 * placed as soon as one of the two stops.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi, type ApiProcess } from './support/api-process.js';
import { asset } from './support/env.js';
import {
  createPipeline,
  enqueueRun,
  getRun,
  requestStop,
  startNode,
  startScheduler,
  startStack,
  until,
  waitForStatus,
  type Stack,
} from './support/scheduler-stack.js';
import type { ServiceProcess } from './support/service-process.js';

const NODE = 'node-adm';
let stack: Stack;
let api: ApiProcess;
let scheduler: ServiceProcess;

before(async () => {
  stack = await startStack();
  await startNode(stack, NODE, {
    SIE_CAPACITY_FPS: '10',
    SIE_INFERENCE__TIMEOUT_MS: '60000',
  });
  scheduler = await startScheduler(stack, 'sched-adm', {
    SIE_LEASE_MS: '15000',
    SIE_COMMAND_TIMEOUT_MS: '10000',
  });
  api = await startApi(stack);
});

after(async () => {
  await stack?.close();
});

async function metrics(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${scheduler.opsPort}/metrics`);
  return res.text();
}

/** The value of the sample of `name` whose labels include `label` (e.g. `node_id="x"`). */
function metric(text: string, name: string, label: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').pop()) : undefined;
}

test(
  'a node refuses a run past its fps capacity: queued with no_capacity, placed when room frees',
  { timeout: 300_000 },
  async (t) => {
    const pipelineId = await createPipeline(stack, { sampleFps: 5 });
    const source = { url: asset('media/vtest.avi'), loop: true, realtime: true };
    const first = await enqueueRun(stack, pipelineId, source);
    const second = await enqueueRun(stack, pipelineId, source);
    await waitForStatus(stack, first, 'active', 120_000);
    await waitForStatus(stack, second, 'active', 120_000);
    const third = await enqueueRun(stack, pipelineId, source);

    // The third would take the node to 15 fps of 10: it stays queued, and says why.
    const queued = await until(
      'the third run to be refused for capacity',
      async () => {
        const r = await api.call<{
          status: string;
          reason: { code: string; message: string } | null;
        }>('GET', `/v1/runs/${third}`);
        return r.body.reason?.code === 'no_capacity' ? r.body : undefined;
      },
      30_000,
      250,
    );
    assert.equal(queued.status, 'init_startup');
    assert.match(queued.reason?.message ?? '', /capacity/);
    t.diagnostic(`queued: ${queued.reason?.message ?? ''}`);
    // And it stays so: no placement sneaks past the limit.
    await new Promise((r) => setTimeout(r, 3000));
    const still = await getRun(stack, third);
    assert.equal(still.status, 'init_startup');
    assert.equal(still.nodeId, null);

    const node = await api.call<Record<string, unknown>>('GET', `/v1/nodes/${NODE}`);
    assert.equal(node.status, 200, JSON.stringify(node.body));
    assert.equal(node.body.state, 'ready');
    assert.equal(node.body.capacityFps, 10);
    assert.equal(node.body.usedFps, 10);
    assert.equal(node.body.runs, 2);

    let last = '';
    const text = await until(
      'the scheduler to export the node figures',
      async () => {
        last = await metrics();
        return metric(last, 'sie_scheduler_node_capacity_fps', `node_id="${NODE}"`) === 10
          ? last
          : undefined;
      },
      15_000,
      500,
    ).catch((err: unknown) => {
      const lines = last.split('\n').filter((l) => l.includes('node') || l.includes('queued'));
      throw new Error(`${String(err)}\n${lines.join('\n')}`);
    });
    assert.equal(metric(text, 'sie_scheduler_node_used_fps', `node_id="${NODE}"`), 10);
    assert.ok(
      (metric(text, 'sie_scheduler_runs_queued_total', 'reason="no_capacity"') ?? 0) >= 1,
      'the refusal is counted',
    );

    // One run stops: the queued one takes its place.
    await requestStop(stack, first);
    await waitForStatus(stack, first, 'inactive', 60_000);
    const placed = await waitForStatus(stack, third, 'active', 120_000);
    assert.equal(placed.nodeId, NODE);
    const after = await api.call<{ reason: { code: string } | null }>('GET', `/v1/runs/${third}`);
    assert.notEqual(after.body.reason?.code, 'no_capacity');

    // With no other node, a drain cannot move anything: the runs stay, and the node says why.
    const drain = await api.call('POST', `/v1/nodes/${NODE}/drain`);
    assert.equal(drain.status, 202);
    const waiting = await until(
      'the drain to report that it waits',
      async () => {
        const r = await api.call<{ state: string; runs: number; message: string | null }>(
          'GET',
          `/v1/nodes/${NODE}`,
        );
        return r.body.message ? r.body : undefined;
      },
      20_000,
      250,
    );
    assert.equal(waiting.state, 'draining');
    assert.equal(waiting.runs, 2);
    assert.match(waiting.message ?? '', /cannot move yet: no other ready node/);
    assert.equal((await getRun(stack, second)).status, 'active');
    const resumed = await api.call<{ state: string; message: string | null }>(
      'POST',
      `/v1/nodes/${NODE}/resume`,
    );
    assert.equal(resumed.body.state, 'ready');
    assert.equal(resumed.body.message, null);
    await requestStop(stack, second);
    await requestStop(stack, third);
  },
);
