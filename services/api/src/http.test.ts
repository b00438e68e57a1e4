/**
 * The API in this process against real Postgres and NATS: pipelines, runs, stop, tenancy, bad
 * input (every rejection names its fields and writes nothing), source probing, SSE, the OpenAPI
 * document, health and metrics. Models are inserted directly: their upload has its own test.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { detectionsSubject, eventSubject, heartbeatSubject } from '@sie/bus';
import { Event, FrameDetections, Heartbeat, Stage } from '@sie/contracts';
import { models, newId, outbox, runTransitions, runs, tenants } from '@sie/db';
import { resolveSharedAsset } from '@sie/infra';
import { eq } from 'drizzle-orm';
import { call } from './testing/http.js';
import { countRows, startTestApi, type TestApi } from './testing/harness.js';

type Body = Record<string, unknown>;
type Issue = { path: string; message: string };

let api: TestApi;
const modelId = newId('mdl');
const otherModelId = newId('mdl');
let pipelineId = '';

async function insertModel(id: string, tenantId: string): Promise<void> {
  await api.db.insert(tenants).values({ id: tenantId, name: tenantId }).onConflictDoNothing();
  await api.db.insert(models).values({
    id,
    tenantId,
    name: 'yolox',
    task: 'detect',
    decoder: { type: 'yolox', decodedInGraph: true },
    inputWidth: 416,
    inputHeight: 416,
    classNames: ['person'],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash: id.slice(4).padEnd(64, '0'),
    filePath: `/nowhere/${id}.onnx`,
    sizeBytes: 1,
  });
}

const paths = (body: Body): string[] =>
  [...new Set(((body.issues as Issue[]) ?? []).map((i) => i.path))].sort();

before(async () => {
  api = await startTestApi({
    rtsp: { publicBaseUrl: 'rtsp://cam.example:8554/' },
    dashboard: { previewBaseUrl: 'https://preview.example:9106/' },
  });
  await insertModel(modelId, 'default');
  await insertModel(otherModelId, 'acme');
});

after(async () => {
  await api?.close();
});

test('pipelines: create with defaults, get, list, replace bumps the version', async () => {
  const created = await call(api.url, 'POST', '/v1/pipelines', {
    json: {
      name: 'lobby',
      modelId,
      config: { scoreThreshold: 0.5, retry: { startupAttempts: 2 } },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  pipelineId = String(created.body.id);
  const config = created.body.config as Body;
  assert.equal(config.scoreThreshold, 0.5);
  assert.deepEqual(config.retry, {
    startupAttempts: 2,
    reconnectAttempts: 5,
    intervalMs: 2000,
    backoff: 'fixed',
    maxIntervalMs: 30000,
  });
  assert.equal(created.body.version, 1);

  const replaced = await call(api.url, 'PUT', `/v1/pipelines/${pipelineId}`, {
    json: { name: 'lobby v2', modelId, config: { sampleFps: 5 } },
  });
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
  assert.equal(replaced.body.version, 2);
  assert.equal((replaced.body.config as Body).sampleFps, 5);
  assert.equal((replaced.body.config as Body).scoreThreshold, 0.3);

  const got = await call(api.url, 'GET', `/v1/pipelines/${pipelineId}`);
  assert.equal(got.body.name, 'lobby v2');
  const list = await call<{ items: Body[] }>(api.url, 'GET', '/v1/pipelines');
  assert.deepEqual(
    list.body.items.map((p) => p.id),
    [pipelineId],
  );
  // Another tenant sees none of it, and cannot use this tenant's model.
  assert.equal(
    (await call(api.url, 'GET', `/v1/pipelines/${pipelineId}`, { tenant: 'acme' })).status,
    404,
  );
  const foreign = await call(api.url, 'POST', '/v1/pipelines', {
    json: { name: 'x', modelId, config: {} },
    tenant: 'acme',
  });
  assert.equal(foreign.status, 404);
  assert.deepEqual(paths(foreign.body), ['modelId']);
  const put = await call(api.url, 'PUT', `/v1/pipelines/${pipelineId}`, {
    json: { name: 'x', modelId: otherModelId, config: {} },
    tenant: 'acme',
  });
  assert.equal(put.status, 404);
});

test('bad input: every bad field is named, and nothing is written', async () => {
  const before = await countRows(api.db);

  const invalidJson = await call(api.url, 'POST', '/v1/pipelines', { raw: '{"name": "x",' });
  assert.equal(invalidJson.status, 400);
  assert.equal(invalidJson.body.code, 'invalid_json');

  const empty = await call(api.url, 'POST', '/v1/runs', { raw: '' });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.code, 'invalid_json');

  const wrong = await call(api.url, 'POST', '/v1/pipelines', {
    json: {
      name: 42,
      modelId: 'has spaces',
      extra: true,
      config: {
        scoreThreshold: 'high',
        retry: { startupAttempts: 0, backoff: 'sometimes', jitter: 1 },
        zones: [{ id: 'z', polygon: [[0, 0]] }],
        colour: 'red',
      },
    },
  });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.code, 'invalid_argument');
  assert.deepEqual(paths(wrong.body), [
    'config.colour',
    'config.retry.backoff',
    'config.retry.jitter',
    'config.retry.startupAttempts',
    'config.scoreThreshold',
    'config.zones.0.polygon',
    'extra',
    'modelId',
    'name',
  ]);
  assert.equal(
    (wrong.body.issues as Issue[]).find((i) => i.path === 'extra')?.message,
    'unknown key',
  );

  const missingPipeline = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId: 'pl_missing', source: { url: '/videos/a.mp4' } },
  });
  assert.equal(missingPipeline.status, 404);
  assert.deepEqual(paths(missingPipeline.body), ['pipelineId']);

  const runTypes = await call(api.url, 'POST', '/v1/runs', {
    json: {
      pipelineId,
      source: { url: '/a.mp4', loop: 'yes', rtspTransport: 'quic' },
      output: { path: '../x' },
    },
  });
  assert.equal(runTypes.status, 400);
  assert.deepEqual(paths(runTypes.body), ['output.path', 'source.loop', 'source.rtspTransport']);

  const forbidden = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: 'concat:/etc/passwd|/a.mp4' } },
  });
  assert.equal(forbidden.status, 400);
  assert.equal(forbidden.body.code, 'source_invalid');
  assert.match(String(forbidden.body.message), /scheme "concat:" is not allowed/);
  // The field is named too, so a form can show the message next to it.
  assert.deepEqual(paths(forbidden.body), ['source.url']);
  const traversal = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: 'file:///videos/../etc/passwd' } },
  });
  assert.equal(traversal.body.code, 'source_invalid');

  const tooLarge = await call(api.url, 'POST', '/v1/pipelines', {
    json: { name: 'x'.repeat(2 << 20), modelId, config: {} },
  });
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.body.code, 'payload_too_large');
  assert.match(String(tooLarge.body.message), /larger than 1048576 bytes \(http\.bodyLimitBytes\)/);

  const notJson = await call(api.url, 'POST', '/v1/pipelines', {
    raw: 'name=x',
    contentType: 'text/plain',
  });
  assert.equal(notJson.status, 415);
  assert.equal(notJson.body.code, 'unsupported_media_type');

  const badTenant = await call(api.url, 'POST', '/v1/pipelines', {
    json: { name: 'x', modelId, config: {} },
    tenant: 'no spaces please',
  });
  assert.equal(badTenant.status, 400);
  assert.deepEqual(paths(badTenant.body), ['headers.x-sie-tenant']);

  const badQuery = await call(api.url, 'GET', '/v1/runs?limit=500&status=running&page=2');
  assert.equal(badQuery.status, 400);
  assert.deepEqual(paths(badQuery.body), ['limit', 'page', 'status.0']);

  const unknownRoute = await call(api.url, 'GET', '/v1/nothing-here');
  assert.equal(unknownRoute.status, 404);
  assert.equal(unknownRoute.body.code, 'not_found');
  assert.match(String(unknownRoute.body.message), /GET \/v1\/nothing-here/);

  assert.deepEqual(await countRows(api.db), before);
});

test('runs: create writes the run, one transition and one outbox row in one go', async () => {
  const before = await countRows(api.db);
  const res = await call(api.url, 'POST', '/v1/runs', {
    json: {
      pipelineId,
      source: { url: '/videos/lobby.mp4', loop: true },
      output: { path: 'lobby/cam1' },
    },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.status, 'init_startup');
  const id = String(res.body.id);
  assert.match(id, /^run_[0-9a-f]{32}$/);
  assert.deepEqual(res.body.output, {
    path: 'lobby/cam1',
    rtspUrl: 'rtsp://cam.example:8554/lobby/cam1',
    // The render preview is keyed by run id, not by output path.
    previewUrl: `https://preview.example:9106/runs/${id}/preview.mjpeg`,
  });
  const afterCounts = await countRows(api.db);
  assert.equal(afterCounts.runs, before.runs + 1);
  assert.equal(afterCounts.run_transitions, before.run_transitions + 1);
  assert.equal(afterCounts.outbox, before.outbox + 1);
  const [row] = await api.db.select().from(runs).where(eq(runs.id, id));
  assert.equal(row?.pipelineVersion, 2);
  assert.deepEqual(row?.source, {
    url: '/videos/lobby.mp4',
    loop: true,
    realtime: true,
    rtspTransport: 'tcp',
  });
  const [message] = await api.db
    .select()
    .from(outbox)
    .where(eq(outbox.subject, `sie.status.default.${id}`));
  assert.ok(message, 'status change in the outbox');

  const got = await call(api.url, 'GET', `/v1/runs/${id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.status, 'init_startup');
  assert.equal(got.body.desiredState, 'running');
  assert.equal((got.body.output as Body).rtspUrl, 'rtsp://cam.example:8554/lobby/cam1');
  assert.equal(got.body.attempts, 0);
  assert.equal(got.body.nodeId, null);

  // The same output path cannot serve two live runs.
  const clash = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: '/videos/other.mp4' }, output: { path: 'lobby/cam1' } },
  });
  assert.equal(clash.status, 409);

  // Credentials in a camera URL are not shown back.
  const secret = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: 'rtsp://admin:hunter2@10.0.0.5:554/stream' } },
  });
  assert.equal(secret.status, 202);
  const shown = await call(api.url, 'GET', `/v1/runs/${String(secret.body.id)}`);
  assert.equal((shown.body.source as Body).url, 'rtsp://admin:***@10.0.0.5:554/stream');
  assert.equal((shown.body.output as Body).path, secret.body.id);
});

test('runs: list filters by status and pages by (created_at, id)', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await call(api.url, 'POST', '/v1/runs', {
      json: { pipelineId, source: { url: `/v/${i}.mp4` } },
    });
    assert.equal(r.status, 202);
  }
  const all = await call<{ items: Body[]; nextCursor: string | null }>(
    api.url,
    'GET',
    '/v1/runs?limit=200',
  );
  const total = all.body.items.length;
  assert.ok(total >= 7);
  assert.equal(all.body.nextCursor, null);
  const seen: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: { body: { items: Body[]; nextCursor: string | null } } = await call(
      api.url,
      'GET',
      `/v1/runs?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.ok(page.body.items.length <= 3);
    seen.push(...page.body.items.map((r) => String(r.id)));
    cursor = page.body.nextCursor;
  }
  assert.deepEqual(
    seen,
    all.body.items.map((r) => String(r.id)),
  );
  const created = all.body.items.map((r) => String(r.createdAt));
  assert.deepEqual(created, [...created].sort().reverse(), 'newest first');

  const first = all.body.items[0] as Body;
  await api.db
    .update(runs)
    .set({ status: 'active' })
    .where(eq(runs.id, String(first.id)));
  const active = await call<{ items: Body[] }>(api.url, 'GET', '/v1/runs?status=active');
  assert.deepEqual(
    active.body.items.map((r) => r.id),
    [first.id],
  );
  const both = await call<{ items: Body[] }>(
    api.url,
    'GET',
    '/v1/runs?status=active,init_startup&limit=200',
  );
  assert.equal(both.body.items.length, total);
  assert.equal(
    (await call<{ items: Body[] }>(api.url, 'GET', '/v1/runs', { tenant: 'acme' })).body.items
      .length,
    0,
  );
  const foreignCursor = await call(api.url, 'GET', `/v1/runs?cursor=${String(first.id)}`, {
    tenant: 'acme',
  });
  assert.equal(foreignCursor.status, 400);
});

test('stop before placement goes to init_shutdown with a transition; tenants cannot touch others', async () => {
  const res = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: '/v/stop.mp4' } },
  });
  const id = String(res.body.id);

  for (const [method, path] of [
    ['GET', `/v1/runs/${id}`],
    ['GET', `/v1/runs/${id}/transitions`],
    ['POST', `/v1/runs/${id}/stop`],
  ] as const) {
    const r = await call(api.url, method, path, { tenant: 'acme' });
    assert.equal(r.status, 404, `${method} ${path}`);
  }
  assert.equal((await call(api.url, 'GET', `/v1/runs/${id}`)).body.status, 'init_startup');

  const stopped = await call(api.url, 'POST', `/v1/runs/${id}/stop`);
  assert.equal(stopped.status, 202);
  assert.deepEqual(stopped.body, { id, status: 'init_shutdown', desiredState: 'stopped' });
  const again = await call(api.url, 'POST', `/v1/runs/${id}/stop`);
  assert.deepEqual(again.body, { id, status: 'init_shutdown', desiredState: 'stopped' });

  const history = await call<{ items: Body[] }>(api.url, 'GET', `/v1/runs/${id}/transitions`);
  assert.deepEqual(
    history.body.items.map((t) => [t.from, t.to, t.actor]),
    [
      [null, 'init_startup', 'api'],
      ['init_startup', 'init_shutdown', 'api'],
    ],
  );
  assert.equal((history.body.items[1]?.reason as Body).code, 'stop_requested');
  const rows = await api.db.select().from(runTransitions).where(eq(runTransitions.runId, id));
  assert.equal(rows.length, 2, 'a repeated stop adds no transition');

  // A placed run only gets its desired state; the scheduler does the rest.
  const placed = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: '/v/p.mp4' } },
  });
  const placedId = String(placed.body.id);
  await api.db
    .update(runs)
    .set({ status: 'active', leaseGeneration: 1 })
    .where(eq(runs.id, placedId));
  const asked = await call(api.url, 'POST', `/v1/runs/${placedId}/stop`);
  assert.deepEqual(asked.body, { id: placedId, status: 'active', desiredState: 'stopped' });

  // A finished run cannot be stopped.
  await api.db.update(runs).set({ status: 'failed' }).where(eq(runs.id, placedId));
  const ended = await call(api.url, 'POST', `/v1/runs/${placedId}/stop`);
  assert.equal(ended.status, 409);
  assert.equal(ended.body.code, 'conflict');
});

test('probe: the sample video is described; a missing file is unreachable with its reason', async () => {
  const video = resolveSharedAsset('media/vtest.avi');
  const ok = await call(api.url, 'POST', '/v1/sources/probe', { json: { url: video } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.reachable, true);
  assert.equal(ok.body.codec, 'msmpeg4v3');
  assert.equal(ok.body.width, 768);
  assert.equal(ok.body.height, 576);
  assert.equal(ok.body.fps, 10);

  const missing = await call(api.url, 'POST', '/v1/sources/probe', {
    json: { url: '/no/such/video.mp4' },
  });
  assert.equal(missing.status, 200);
  assert.deepEqual(missing.body, {
    reachable: false,
    code: 'source_unreachable',
    reason: 'cannot open /no/such/video.mp4: No such file or directory',
  });
  const forbidden = await call(api.url, 'POST', '/v1/sources/probe', {
    json: { url: 'concat:/a.mp4|/b.mp4' },
  });
  assert.equal(forbidden.status, 400);
  assert.equal(forbidden.body.code, 'source_invalid');
});

test("detections: SSE delivers a run's detections, ?latest answers the newest; tenants are kept apart", async () => {
  const runId = newId('run');
  const controller = new AbortController();
  const res = await fetch(`${api.url}/v1/runs/${runId}/detections`, { signal: controller.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body?.getReader();
  assert.ok(reader);
  await reader.read(); // ": connected"
  const message: FrameDetections = {
    frame: undefined,
    detections: [
      { classId: 0, label: 'person', score: 0.9, box: { x1: 1, y1: 2, x2: 3, y2: 4 }, trackId: 0 },
    ],
    modelId,
    tenantId: 'default',
    latencyMs: 12,
    timings: undefined,
  };
  let text = '';
  const deadline = Date.now() + 5000;
  while (!text.includes('event: detections') && Date.now() < deadline) {
    api.bus.nc.publish(detectionsSubject(runId), FrameDetections.encode(message).finish());
    const chunk = await Promise.race([
      reader.read(),
      new Promise<{ value: undefined }>((r) => setTimeout(() => r({ value: undefined }), 200)),
    ]);
    if (chunk.value) text += new TextDecoder().decode(chunk.value);
  }
  controller.abort();
  assert.match(text, /event: detections\ndata: \{.*"label":"person"/);
  const latest = await call(api.url, 'GET', `/v1/runs/${runId}/detections?latest`);
  assert.equal(latest.status, 200);
  assert.equal(latest.body.modelId, modelId);

  // A registered run of another tenant: 404.
  const run = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: '/v/d.mp4' } },
  });
  const foreign = await call(api.url, 'GET', `/v1/runs/${String(run.body.id)}/detections?latest`, {
    tenant: 'acme',
  });
  assert.equal(foreign.status, 404);
});

test('GET /v1/runs/:id: live figures from ingest heartbeats and the detections latencies', async () => {
  const run = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: '/v/live.mp4' } },
  });
  assert.equal(run.status, 202);
  const runId = String(run.body.id);
  const before = await call(api.url, 'GET', `/v1/runs/${runId}`);
  assert.equal(before.status, 200);
  assert.equal(before.body.live, null, 'nothing came from the run yet');

  const t0 = Date.now();
  const beat = (i: number): Heartbeat => ({
    runId,
    stage: Stage.STAGE_INGEST,
    nodeId: 'n1',
    generation: 1,
    atMs: t0 + i * 1000,
    framesIn: 10 * i + 10,
    framesOut: 9 * i + 9,
    framesDropped: i,
    fps: 9,
  });
  const subject = heartbeatSubject(runId, 'ingest');
  api.bus.nc.publish(subject, Heartbeat.encode(beat(0)).finish());
  api.bus.nc.publish(subject, Heartbeat.encode(beat(2)).finish());
  // A render heartbeat does not count: the figures are ingest's.
  api.bus.nc.publish(
    heartbeatSubject(runId, 'render'),
    Heartbeat.encode({ ...beat(3), stage: Stage.STAGE_RENDER, fps: 99 }).finish(),
  );
  for (let i = 1; i <= 300; i++) {
    const message: FrameDetections = {
      frame: undefined,
      detections: [],
      modelId,
      tenantId: 'default',
      // 1..100 repeated: p50 = 50, p99 = 99 once the window holds the last 200.
      latencyMs: ((i - 1) % 100) + 1,
      timings: undefined,
    };
    api.bus.nc.publish(detectionsSubject(runId), FrameDetections.encode(message).finish());
  }
  await api.bus.nc.flush();
  let live: Body | null = null;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const got = await call(api.url, 'GET', `/v1/runs/${runId}`);
    live = got.body.live as Body | null;
    if (live && (live.latencyMs as Body).p99 === 99) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(live, 'live figures');
  assert.equal(live.fpsIn, 10, '20 frames in over 2 s');
  assert.equal(live.fpsOut, 9);
  assert.equal(live.dropped, 2);
  assert.deepEqual(live.latencyMs, { p50: 50, p99: 99 });
  assert.ok(Date.parse(String(live.updatedAt)) >= t0 - 1000);
  // The list carries the same figures, so a dashboard polls one request for every run.
  const list = await call(api.url, 'GET', '/v1/runs?limit=200');
  const listed = (list.body.items as Body[]).find((r) => r.id === runId);
  assert.deepEqual(listed?.live, live);
});

interface SseEvent {
  id: string;
  event: string;
  data: Body;
}

/** Opens an SSE stream and reads events until `done` says so (or the deadline passes). */
async function readSse(
  url: string,
  headers: Record<string, string>,
  done: (events: SseEvent[]) => boolean,
  beforeRead?: () => Promise<void>,
  timeoutMs = 5000,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  assert.equal(res.status, 200, await (res.status === 200 ? '' : res.text()));
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body?.getReader();
  assert.ok(reader);
  let text = '';
  const events: SseEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  let connected = false;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<{ value: undefined }>((r) => setTimeout(() => r({ value: undefined }), 100)),
      ]);
      if (chunk.value) text += new TextDecoder().decode(chunk.value);
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (block.startsWith(': connected') && !connected) {
          connected = true;
          await beforeRead?.();
        }
        const field = (name: string): string | undefined =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const data = field('data');
        if (data)
          events.push({
            id: field('id') ?? '',
            event: field('event') ?? '',
            data: JSON.parse(data) as Body,
          });
      }
      if (connected && done(events)) break;
    }
  } finally {
    controller.abort();
  }
  return events;
}

test('events: SSE from JetStream live, resumable with Last-Event-ID, history with ?since; tenants apart', async () => {
  const jsm = await api.bus.nc.jetstreamManager();
  await jsm.streams
    .add({ name: 'SIE_EVENTS', subjects: ['sie.evt.>'], duplicate_window: 120_000 * 1_000_000 })
    .catch(() => undefined);
  const js = api.bus.nc.jetstream();
  const runId = newId('run');
  const startedAt = new Date(Date.now() - 1000).toISOString();
  let n = 0;
  const publish = async (id = `evt-${runId}-${++n}`): Promise<void> => {
    const e: Event = {
      id,
      tenantId: 'default',
      runId,
      ruleId: 'door',
      kind: 'line_cross',
      captureTimeMs: 1000 + n,
      frame: {
        runId,
        seq: 10 + n,
        slot: 0,
        captureTimeMs: 1000 + n,
        width: 768,
        height: 576,
        pixelFormat: 0,
        store: '',
        byteLength: 0,
        generation: 0,
        ptsMs: 0,
      },
      trackIds: [n],
      objects: [
        {
          classId: 0,
          label: 'person',
          score: 0.9,
          box: { x1: 1, y1: 2, x2: 3, y2: 4 },
          trackId: n,
        },
      ],
      counts: { ab: n, ba: 0 },
      message: `person #${n} crossed door`,
    };
    await js.publish(eventSubject('default', runId, 'door'), Event.encode(e).finish(), {
      msgID: id,
    });
  };
  const url = `${api.url}/v1/runs/${runId}/events`;
  // Live: only events published after the stream opened.
  await publish();
  const live = await readSse(
    url,
    {},
    (ev) => ev.length >= 3,
    async () => {
      await publish();
      await publish();
      await publish();
    },
  );
  assert.deepEqual(
    live.map((e) => e.data.frameSeq),
    [12, 13, 14],
  );
  const first = live[0]?.data;
  assert.equal(live[0]?.event, 'event');
  assert.deepEqual(first?.trackIds, [2]);
  assert.deepEqual(first?.counts, { ab: 2, ba: 0 });
  assert.equal(first?.ruleId, 'door');
  assert.equal(first?.kind, 'line_cross');
  assert.equal(first?.message, 'person #2 crossed door');
  assert.deepEqual(first?.objects, [
    { label: 'person', score: 0.9, box: [1, 2, 3, 4], trackId: 2 },
  ]);

  // Reconnect after the second one: the third, then the newer ones, nothing older; a duplicate
  // publish (same event id) is dropped by the stream.
  await publish();
  await publish(`evt-${runId}-5`);
  const resumed = await readSse(
    url,
    { 'last-event-id': live[1]?.id ?? '' },
    (ev) => ev.length >= 2,
    undefined,
    1500,
  );
  assert.deepEqual(
    resumed.map((e) => e.data.frameSeq),
    [14, 15],
  );
  assert.equal(Number(resumed[0]?.id), Number(live[2]?.id));

  // History: every event from a time, or after a sequence.
  const all = await readSse(
    `${url}?since=${encodeURIComponent(startedAt)}`,
    {},
    (ev) => ev.length >= 5,
    undefined,
    1500,
  );
  assert.deepEqual(
    all.map((e) => e.data.frameSeq),
    [11, 12, 13, 14, 15],
  );
  const afterFirst = await readSse(
    `${url}?since=${all[0]?.id ?? ''}`,
    {},
    (ev) => ev.length >= 4,
    undefined,
    1500,
  );
  assert.deepEqual(
    afterFirst.map((e) => e.data.frameSeq),
    [12, 13, 14, 15],
  );
  const bad = await call(api.url, 'GET', `/v1/runs/${runId}/events?since=yesterday`);
  assert.equal(bad.status, 400);

  // A registered run of another tenant: 404.
  const run = await call(api.url, 'POST', '/v1/runs', {
    json: { pipelineId, source: { url: '/v/e.mp4' } },
  });
  const foreign = await call(api.url, 'GET', `/v1/runs/${String(run.body.id)}/events`, {
    tenant: 'acme',
  });
  assert.equal(foreign.status, 404);
});

test('events: tenant-wide SSE filtered by run, rule and kind; resumable; tenants apart', async () => {
  const jsm = await api.bus.nc.jetstreamManager();
  await jsm.streams
    .add({ name: 'SIE_EVENTS', subjects: ['sie.evt.>'], duplicate_window: 120_000 * 1_000_000 })
    .catch(() => undefined);
  const js = api.bus.nc.jetstream();
  const runA = newId('run');
  const runB = newId('run');
  let n = 0;
  const publish = async (
    tenantId: string,
    runId: string,
    ruleId: string,
    kind: string,
  ): Promise<void> => {
    n += 1;
    const e = Event.fromPartial({
      id: `evt-${runId}-${n}`,
      tenantId,
      runId,
      ruleId,
      kind,
      captureTimeMs: n,
      message: `#${n} ${kind} on ${ruleId}`,
    });
    await js.publish(eventSubject(tenantId, runId, ruleId), Event.encode(e).finish(), {
      msgID: e.id,
    });
  };
  const since = new Date(Date.now() - 1000).toISOString();
  await publish('default', runA, 'door', 'line_cross'); // 1
  await publish('default', runB, 'door', 'line_cross'); // 2
  await publish('default', runA, 'hall', 'zone_enter'); // 3
  await publish('acme', runA, 'door', 'line_cross'); // 4: another tenant
  await publish('default', runB, 'hall', 'dwell'); // 5
  const base = `${api.url}/v1/events?since=${encodeURIComponent(since)}`;
  const messages = (events: SseEvent[]): string[] => events.map((e) => String(e.data.message));
  const mine = (events: SseEvent[]): SseEvent[] =>
    events.filter((e) => e.data.runId === runA || e.data.runId === runB);

  const byRule = await readSse(`${base}&ruleId=door`, {}, (ev) => mine(ev).length >= 2);
  assert.deepEqual(messages(mine(byRule)), ['#1 line_cross on door', '#2 line_cross on door']);
  const byRun = await readSse(`${base}&runId=${runA}`, {}, (ev) => ev.length >= 2);
  assert.deepEqual(messages(byRun), ['#1 line_cross on door', '#3 zone_enter on hall']);
  const byKind = await readSse(`${base}&type=zone_enter,dwell`, {}, (ev) => mine(ev).length >= 2);
  assert.deepEqual(messages(mine(byKind)), ['#3 zone_enter on hall', '#5 dwell on hall']);
  const acme = await readSse(
    `${base}&runId=${runA}`,
    { 'x-sie-tenant': 'acme' },
    (ev) => ev.length >= 1,
  );
  assert.deepEqual(messages(acme), ['#4 line_cross on door']);

  // Live after a resume point: Last-Event-ID wins over since.
  const resumed = await readSse(
    `${base}&runId=${runB}`,
    { 'last-event-id': byRun[1]?.id ?? '' },
    (ev) => ev.length >= 2,
    async () => publish('default', runB, 'door', 'line_cross'), // 6
  );
  assert.deepEqual(messages(resumed), ['#5 dwell on hall', '#6 line_cross on door']);

  const bad = await call(api.url, 'GET', '/v1/events?type=teleport&ruleId=a.b');
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.deepEqual(paths(bad.body), ['ruleId', 'type.0']);
});

test('the OpenAPI document lists every route, and only routes that exist', async () => {
  const res = await call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
    api.url,
    'GET',
    '/openapi.json',
  );
  assert.equal(res.status, 200);
  assert.equal(res.body.openapi, '3.1.0');
  const listed = Object.entries(res.body.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const expected = [
    'POST /v1/models',
    'GET /v1/models',
    'GET /v1/models/{id}',
    'DELETE /v1/models/{id}',
    'POST /v1/pipelines',
    'GET /v1/pipelines',
    'GET /v1/pipelines/{id}',
    'PUT /v1/pipelines/{id}',
    'POST /v1/runs',
    'GET /v1/runs',
    'GET /v1/runs/{id}',
    'GET /v1/runs/{id}/transitions',
    'POST /v1/runs/{id}/stop',
    'GET /v1/runs/{id}/detections',
    'GET /v1/runs/{id}/events',
    'GET /v1/events',
    'GET /v1/runs/{id}/events/{eventId}/snapshot',
    'POST /v1/predict',
    'POST /v1/sources/probe',
    'GET /v1/sources/discover',
    'GET /v1/nodes',
    'GET /v1/nodes/{nodeId}',
    'POST /v1/nodes/{nodeId}/drain',
    'POST /v1/nodes/{nodeId}/resume',
    'GET /healthz',
    'GET /readyz',
    'GET /metrics',
    'GET /openapi.json',
    'GET /docs',
    'GET /',
    'GET /dashboard',
    'GET /dashboard/',
    'GET /dashboard/{file}',
  ];
  assert.deepEqual([...listed].sort(), [...expected].sort());
  for (const entry of listed) {
    const [method, path] = entry.split(' ') as [string, string];
    const url = path.replace(/\{([^}]+)\}/g, ':$1');
    assert.ok(api.server.app.hasRoute({ method: method as 'GET', url }), `${entry} is served`);
  }
  // Bodies are described by schemas, e.g. the pipeline config with its nested retry policy.
  const doc = res.body as unknown as { components: { schemas: Record<string, Body> } };
  const request = doc.components.schemas.PipelineRequest as { properties: Record<string, Body> };
  const config = request.properties.config as { properties: Record<string, Body> };
  assert.ok(config.properties.retry, 'config.retry described');

  const docs = await fetch(`${api.url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await docs.text(), /openapi\.json/);
});

test('health, readiness and metrics on the HTTP port', async () => {
  const health = await call(api.url, 'GET', '/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  assert.equal((health.body.checks as Body).postgres, 'ok');
  assert.equal((await call(api.url, 'GET', '/readyz')).status, 200);
  const metrics = await call<string>(api.url, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(
    metrics.body,
    /sie_api_requests_total\{[^}]*route="\/v1\/runs\/:id"[^}]*method="GET"[^}]*status="200"/,
  );
  assert.match(metrics.body, /sie_api_requests_total\{[^}]*route="unmatched"[^}]*status="404"/);
  assert.match(metrics.body, /sie_api_request_duration_ms_bucket\{/);
});
