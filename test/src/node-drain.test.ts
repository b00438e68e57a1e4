/**
 * Zero-downtime node drain with real processes: two nodes (ingest, rules, render as `node-a` and
 * `node-b`), one inference service, sie's RTSP server for the outputs, the scheduler and the API.
 * Three runs watch the sample video served as an RTSP camera, with a line-crossing rule. Draining
 * node-a through the API moves every run to node-b; viewers of each RTSP output see it resume
 * within seconds; the rule's running count goes on without a gap or a repeat across the move;
 * node-a ends `drained` with no runs, and after a resume it takes runs again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runEventsSubject } from '@sie/bus';
import { Event } from '@sie/contracts';
import { RtspServer } from '@sie/rtsp-server';
import { startApi, type ApiProcess } from './support/api-process.js';
import { asset } from './support/env.js';
import { startTestCamera, type TestCamera } from './support/rtsp-camera.js';
import { RtspViewer } from './support/rtsp-viewer.js';
import {
  createPipeline,
  enqueueRun,
  getRun,
  requestStop,
  startNode,
  startScheduler,
  startStack,
  transitions,
  until,
  waitForStatus,
  type Stack,
} from './support/scheduler-stack.js';

const RULES = {
  lines: [{ id: 'mid', a: [0.5, 0.0], b: [0.5, 1.0] }],
  rules: [
    {
      id: 'cross',
      kind: 'line_cross',
      line: 'mid',
      classes: ['person'],
      params: { direction: 'both' },
    },
  ],
};
const NODE_ENV = { SIE_INFERENCE__TIMEOUT_MS: '60000', SIE_HEARTBEAT_INTERVAL_MS: '1000' };

let stack: Stack;
let api: ApiProcess;
let camera: TestCamera;
let output: RtspServer;
let outputPort = 0;
const viewers: RtspViewer[] = [];

before(async () => {
  stack = await startStack();
  output = new RtspServer({ host: '127.0.0.1', port: 0 });
  outputPort = await output.start();
  camera = await startTestCamera(asset('media/vtest.avi'), 'entrance');
  const env = { ...NODE_ENV, SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${outputPort}` };
  // node-b comes later, so every run starts on node-a.
  await startNode(stack, 'node-a', env);
  await startScheduler(stack, 'sched-drain', {
    SIE_LEASE_MS: '15000',
    SIE_COMMAND_TIMEOUT_MS: '10000',
  });
  api = await startApi(stack);
});

after(async () => {
  await Promise.allSettled(viewers.map((v) => v.stop()));
  await stack?.close();
  await camera?.stop();
  await output?.stop();
});

/** Every event of a run in the JetStream stream, in stream order. */
async function runEvents(runId: string): Promise<Event[]> {
  const js = stack.bus.nc.jetstream();
  const consumer = await js.consumers.get('SIE_EVENTS', {
    filterSubjects: runEventsSubject(stack.tenantId, runId),
  });
  const out: Event[] = [];
  const batch = await consumer.fetch({ max_messages: 10_000, expires: 1500 });
  for await (const m of batch) out.push(Event.decode(m.data));
  return out;
}

const total = (e: Event): number => (e.counts.a_to_b ?? 0) + (e.counts.b_to_a ?? 0);

interface NodeBody {
  nodeId: string;
  state: string;
  runs: number;
  capacityFps: number;
  usedFps: number;
  lastSeenAt: string | null;
  message: string | null;
}

test(
  'drain node-a: every run moves to node-b, its output resumes within 5 s, no event lost or repeated; resume',
  { timeout: 600_000 },
  async (t) => {
    const pipelineId = await createPipeline(stack, { sampleFps: 5, ...RULES });
    const source = { url: camera.url, rtspTransport: 'tcp' as const };
    const ids = [
      await enqueueRun(stack, pipelineId, source),
      await enqueueRun(stack, pipelineId, source),
      await enqueueRun(stack, pipelineId, source),
    ];
    for (const id of ids) {
      const run = await waitForStatus(stack, id, 'active', 180_000);
      assert.equal(run.nodeId, 'node-a');
    }
    const before = new Map(
      await Promise.all(
        ids.map(async (id) => [id, (await getRun(stack, id)).leaseGeneration] as const),
      ),
    );
    await startNode(stack, 'node-b', {
      ...NODE_ENV,
      SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${outputPort}`,
    });
    await until(
      'node-b to announce itself',
      async () => {
        const r = await api.call<NodeBody>('GET', '/v1/nodes/node-b');
        return r.status === 200 && r.body.state === 'ready' ? r.body : undefined;
      },
      30_000,
      250,
    );
    const listed = await api.call<{ items: NodeBody[] }>('GET', '/v1/nodes');
    assert.deepEqual(
      listed.body.items.map((n) => [n.nodeId, n.state, n.runs]),
      [
        ['node-a', 'ready', 3],
        ['node-b', 'ready', 0],
      ],
    );
    assert.equal(
      listed.body.items[0]?.capacityFps,
      0,
      'admission control is off until a capacity is set',
    );
    assert.equal(listed.body.items[0]?.usedFps, 15);
    assert.equal((await api.call('GET', '/v1/nodes/node-zz')).status, 404);
    const missing = await api.call<{ code?: string; error?: { code?: string } }>(
      'POST',
      '/v1/nodes/node-zz/drain',
    );
    assert.equal(missing.status, 404);
    // An id no node could have is as unknown as any other.
    assert.equal((await api.call('GET', '/v1/nodes/bad%20id')).status, 404);

    // Viewers on every output, and the rule at work, before the drain.
    for (const id of ids)
      viewers.push(new RtspViewer(`rtsp://127.0.0.1:${outputPort}/${id}`).start());
    await until(
      'every viewer to decode frames',
      async () => viewers.every((v) => v.frames.length >= 5),
      60_000,
      250,
    );
    await until(
      'a line crossing before the drain',
      async () => (await Promise.all(ids.map(runEvents))).some((e) => e.length > 0),
      120_000,
      1000,
    );

    const t0 = Date.now();
    const drain = await api.call<{ nodeId: string; state: string; runs: number }>(
      'POST',
      '/v1/nodes/node-a/drain',
    );
    assert.equal(drain.status, 202, JSON.stringify(drain.body));
    assert.deepEqual(drain.body, { nodeId: 'node-a', state: 'draining', runs: 3 });

    const drained = await until(
      'node-a to be drained',
      async () => {
        const r = await api.call<NodeBody>('GET', '/v1/nodes/node-a');
        return r.body.state === 'drained' ? r.body : undefined;
      },
      240_000,
      250,
    );
    const t1 = Date.now();
    t.diagnostic(`drain took ${t1 - t0} ms`);
    assert.equal(drained.runs, 0);
    assert.equal(drained.usedFps, 0);

    for (const id of ids) {
      const run = await getRun(stack, id);
      assert.equal(run.status, 'active', `${id} is still running`);
      assert.equal(run.nodeId, 'node-b');
      assert.ok(run.leaseGeneration > (before.get(id) ?? 0), 'moved at a new generation');
      const moved = (await transitions(stack, id)).filter((x) => x.reasonCode === 'moved');
      assert.equal(moved.length, 1, 'one move recorded');
      assert.match(moved[0]?.message ?? '', /node-a to node node-b/);
    }
    const nodeB = await api.call<NodeBody>('GET', '/v1/nodes/node-b');
    assert.equal(nodeB.body.runs, 3);

    // The outputs came back on node-b: every viewer decodes frames again, after a short gap.
    await until(
      'every viewer to decode frames after the drain',
      async () => viewers.every((v) => v.framesSince(t1 + 1000) >= 5),
      60_000,
      250,
    );
    const end = Date.now();
    const gaps = viewers.map((v) => v.longestGapMs(t0, end));
    t.diagnostic(`longest gap a viewer saw, per run: ${gaps.join(', ')} ms`);
    gaps.forEach((gap, i) =>
      assert.ok(gap <= 5000, `${viewers[i]?.url ?? ''}: the output stopped for ${gap} ms`),
    );

    // Events go on after the move, and the rule's running count never skips or repeats.
    await until(
      'a line crossing after the drain',
      async () =>
        (await Promise.all(ids.map(runEvents))).some((events) =>
          events.some((e) => e.captureTimeMs > t1),
        ),
      180_000,
      1000,
    );
    let all = 0;
    for (const id of ids) {
      const events = await runEvents(id);
      all += events.length;
      const totals = events.map(total).sort((a, b) => a - b);
      assert.deepEqual(
        totals,
        totals.map((_, i) => i + 1),
        `run ${id}: crossing counts ${totals.join(',')} (a gap is a lost event, a repeat a duplicate)`,
      );
      assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'event ids are unique');
    }
    t.diagnostic(`${all} events across the three runs`);

    // Resume: node-a takes runs again (the least loaded node gets the next one).
    const resumed = await api.call<NodeBody>('POST', '/v1/nodes/node-a/resume');
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.state, 'ready');
    const fourth = await enqueueRun(stack, pipelineId, source);
    const placed = await waitForStatus(stack, fourth, 'active', 180_000);
    assert.equal(placed.nodeId, 'node-a');
    for (const id of [...ids, fourth]) await requestStop(stack, id);
  },
);
