/**
 * The snapshot route and the capture root check of the API in this process (real Postgres and
 * NATS), with snapshot files written here the way the render service writes them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { models, newId, tenants } from '@sie/db';
import { call } from './testing/http.js';
import { startTestApi, type TestApi } from './testing/harness.js';

type Body = Record<string, unknown>;

let api: TestApi;
let work: string;
const modelId = newId('mdl');

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sie-api-snapshots-'));
  api = await startTestApi({
    snapshotDir: join(work, 'snapshots'),
    capture: { rootDir: join(work, 'capture') },
  });
  await api.db.insert(tenants).values({ id: 'default', name: 'default' }).onConflictDoNothing();
  await api.db.insert(models).values({
    id: modelId,
    tenantId: 'default',
    name: 'yolox',
    task: 'detect',
    decoder: { type: 'yolox', decodedInGraph: true },
    inputWidth: 416,
    inputHeight: 416,
    classNames: ['person'],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash: modelId.slice(4).padEnd(64, '0'),
    filePath: `/nowhere/${modelId}.onnx`,
    sizeBytes: 1,
  });
});

after(async () => {
  await api?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function runWith(config: Body): Promise<string> {
  const p = await call(api.url, 'POST', '/v1/pipelines', {
    json: { name: 'snap', modelId, config },
  });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  const r = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId: (p.body as Body).id, source: { url: '/v/e.mp4' } },
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return String((r.body as Body).id);
}

test('a snapshot is served to its tenant only; missing ones say why', async () => {
  const runId = await runWith({ snapshots: { enabled: true } });
  const eventId = `${runId}.enter.17.0`;
  const dir = join(work, 'snapshots', 'default', runId);
  const url = `/v1/runs/${runId}/events/${eventId}/snapshot`;

  const early = await call(api.url, 'GET', url);
  assert.equal(early.status, 404);
  assert.equal((early.body as Body).code, 'snapshot_not_ready');

  mkdirSync(dir, { recursive: true });
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  writeFileSync(join(dir, `${eventId}.jpg`), jpeg);
  const res = await fetch(`${api.url}${url}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), jpeg);

  const foreign = await call(api.url, 'GET', url, { tenant: 'acme' });
  assert.equal(foreign.status, 404);
  assert.equal((foreign.body as Body).code, 'not_found');
  for (const bad of ['..', '..%2F..%2Fetc%2Fpasswd', 'a..b', '.hidden']) {
    const r = await call(api.url, 'GET', `/v1/runs/${runId}/events/${bad}/snapshot`);
    assert.ok(r.status === 400 || r.status === 404, `${bad}: ${r.status}`);
    if (r.status === 400) assert.equal((r.body as Body).code, 'invalid_argument');
  }

  const plain = await runWith({});
  const none = await call(api.url, 'GET', `/v1/runs/${plain}/events/${plain}.r.1.0/snapshot`);
  assert.equal(none.status, 404);
  assert.equal((none.body as Body).code, 'not_found');
});

test('a local capture directory must lie under the capture root', async () => {
  const inside = await call(api.url, 'POST', '/v1/pipelines', {
    json: {
      name: 'cap',
      modelId,
      config: {
        capture: {
          enabled: true,
          intervalMs: 1000,
          destination: { type: 'local', dir: join(work, 'capture', 'door') },
        },
      },
    },
  });
  assert.equal(inside.status, 201, JSON.stringify(inside.body));
  const outside = await call(api.url, 'POST', '/v1/pipelines', {
    json: {
      name: 'cap',
      modelId,
      config: {
        capture: {
          enabled: true,
          intervalMs: 1000,
          destination: { type: 'local', dir: join(work, 'elsewhere') },
        },
      },
    },
  });
  assert.equal(outside.status, 400);
  assert.deepEqual(
    ((outside.body as Body).issues as { path: string }[]).map((i) => i.path),
    ['config.capture.destination.dir'],
  );
});
