import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { nodeStatusSubject } from '@sie/bus';
import { NodeStatus } from '@sie/contracts';
import { nodes } from '@sie/db';
import { startTestApi, type TestApi } from '../testing/harness.js';
import { call } from '../testing/http.js';

let api: TestApi;
const live = `api-node-${process.pid}`;

before(async () => {
  api = await startTestApi();
});

after(async () => {
  await api?.close();
});

function announce(nodeId: string, capacityFps: number, runIds: string[] = []): void {
  api.bus.publish(nodeStatusSubject(nodeId, 'ingest'), NodeStatus, {
    nodeId,
    stage: 'ingest',
    runIds,
    capacity: 8 - runIds.length,
    maxRuns: 8,
    atMs: Date.now(),
    announceIntervalMs: 2000,
    capacityFps,
  });
}

async function waitSeen(nodeId: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await call(api.url, 'GET', `/v1/nodes/${nodeId}`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node ${nodeId} never seen`);
}

test('an announcing node is listed as ready with its capacity; drain and resume change its state', async () => {
  announce(live, 42);
  await waitSeen(live);
  const one = await call(api.url, 'GET', `/v1/nodes/${live}`);
  assert.equal(one.body.state, 'ready');
  assert.equal(one.body.adminState, 'ready');
  assert.equal(one.body.capacityFps, 42);
  assert.equal(one.body.runs, 0);
  assert.equal(one.body.usedFps, 0);
  assert.equal(typeof one.body.lastSeenAt, 'string');
  const list = await call<{ items: Array<{ nodeId: string }> }>(api.url, 'GET', '/v1/nodes');
  assert.ok(list.body.items.some((n) => n.nodeId === live));

  const drain = await call(api.url, 'POST', `/v1/nodes/${live}/drain`);
  assert.equal(drain.status, 202);
  assert.deepEqual(drain.body, { nodeId: live, state: 'draining', runs: 0 });
  const [row] = await api.db.select().from(nodes);
  assert.equal(row?.state, 'draining', 'the state is kept in Postgres');

  const resume = await call(api.url, 'POST', `/v1/nodes/${live}/resume`);
  assert.equal(resume.status, 200);
  assert.equal(resume.body.state, 'ready');
});

test('a drained node stays drained on another drain; a node that stopped announcing is offline', async () => {
  const gone = `api-gone-${process.pid}`;
  await api.db.insert(nodes).values({ nodeId: gone, state: 'drained' });
  const again = await call(api.url, 'POST', `/v1/nodes/${gone}/drain`);
  assert.equal(again.status, 202);
  assert.equal(again.body.state, 'offline');
  const one = await call(api.url, 'GET', `/v1/nodes/${gone}`);
  assert.equal(one.body.state, 'offline');
  assert.equal(one.body.adminState, 'drained');
  assert.equal(one.body.lastSeenAt, null);
});

test('unknown nodes and ids no node could have are 404 not_found', async () => {
  const missing = await call<{ code: string }>(api.url, 'GET', '/v1/nodes/nobody-here');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'not_found');
  const drain = await call(api.url, 'POST', '/v1/nodes/nobody-here/drain');
  assert.equal(drain.status, 404);
  const bad = await call<{ code: string }>(api.url, 'GET', '/v1/nodes/a%20b');
  assert.equal(bad.status, 404);
  assert.equal(bad.body.code, 'not_found');
});
