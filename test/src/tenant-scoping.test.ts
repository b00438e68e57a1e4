/**
 * Tenant scoping against the real API process: tenants A and B each register a model, a pipeline
 * and a run; B can neither see, change, stop, delete nor subscribe to anything of A's, cannot use
 * A's model or pipeline in its own, and A's ids guessed by B answer exactly like ids that do not
 * exist (404 with the same code: existence is not leaked). The cases are a table keyed by the
 * routes of the OpenAPI document; a tenant-scoped route missing from the table fails the test, so
 * a new route cannot ship unchecked. Authentication is the gateway's (it sets x-sie-tenant).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Bus, eventSubject } from '@sie/bus';
import { Event } from '@sie/contracts';
import { findFreePort, freshDatabase, type TestDatabase } from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { asset, natsUrl } from './support/env.js';
import { recordReliability } from './support/reliability-log.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

type Body = Record<string, unknown>;
interface Answer {
  status: number;
  body: Body;
}

const A = 'tenant-a';
const B = 'tenant-b';
/** Ids of the right shape that were never issued. */
const NEVER = {
  model: 'mdl_00000000000000000000000000000000',
  pipeline: 'pl_00000000000000000000000000000000',
  run: 'run_00000000000000000000000000000000',
};

let database: TestDatabase;
let dataDir: string;
let api: ServiceProcess;
let base: string;
const model = readFileSync(asset('models/yolox_nano_coco.onnx'));
const own = {
  [A]: { model: '', pipeline: '', run: '' },
  [B]: { model: '', pipeline: '', run: '' },
};

async function as(tenant: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { 'x-sie-tenant': tenant };
  let payload: string | FormData | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    // A stream opened where a 404 was due: report it without waiting for it to end.
    await res.body?.cancel();
    return { status: res.status, body: { stream: true } };
  }
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Body) : {} };
}

function modelForm(name: string): FormData {
  const form = new FormData();
  form.append(
    'metadata',
    JSON.stringify({
      name,
      decoder: { type: 'yolox', decodedInGraph: true },
      inputWidth: 416,
      inputHeight: 416,
      classNames: Array.from({ length: 80 }, (_, i) => `c${i}`),
    }),
  );
  form.append('file', new Blob([model]), 'yolox.onnx');
  return form;
}

function predictForm(modelId: string): FormData {
  const form = new FormData();
  form.append('modelId', modelId);
  form.append('image', new Blob([readFileSync(asset('media/dog.jpg'))]), 'dog.jpg');
  return form;
}

/**
 * B's request on A's id answers exactly as the same request on an id that was never issued:
 * 404, the same code, the same message but for the id.
 */
async function likeUnknown(
  method: string,
  path: (id: string) => string,
  foreign: string,
  never: string,
  body?: (id: string) => unknown,
): Promise<void> {
  const crossed = await as(B, method, path(foreign), body?.(foreign));
  const unknown = await as(B, method, path(never), body?.(never));
  assert.equal(crossed.status, 404, `${method} ${path(foreign)}: ${JSON.stringify(crossed.body)}`);
  assert.equal(unknown.status, crossed.status);
  assert.equal(crossed.body.code, unknown.body.code);
  assert.equal(
    String(crossed.body.message).replaceAll(foreign, '<id>'),
    String(unknown.body.message).replaceAll(never, '<id>'),
  );
  const paths = (a: Answer): unknown =>
    (a.body.issues as { path: string }[] | undefined)?.map((i) => i.path);
  assert.deepEqual(paths(crossed), paths(unknown));
}

const ids = (a: Answer): string[] => ((a.body.items ?? []) as { id: string }[]).map((i) => i.id);

/** What B tries on A's things, per route of the OpenAPI document (Fastify path syntax). */
const TABLE: Record<string, () => Promise<void>> = {
  'POST /v1/models': async () => {
    // The same file as A's: registered for B (not a conflict that would name A's model).
    const again = await as(B, 'POST', '/v1/models', modelForm('b-again'));
    assert.equal(again.status, 409, 'B already registered this file itself');
    assert.equal((again.body.details as Body | undefined)?.modelId, own[B].model);
  },
  'GET /v1/models': async () => {
    const list = await as(B, 'GET', '/v1/models');
    assert.deepEqual(ids(list), [own[B].model]);
  },
  'GET /v1/models/:id': () =>
    likeUnknown('GET', (id) => `/v1/models/${id}`, own[A].model, NEVER.model),
  'DELETE /v1/models/:id': async () => {
    await likeUnknown('DELETE', (id) => `/v1/models/${id}`, own[A].model, NEVER.model);
    assert.equal((await as(A, 'GET', `/v1/models/${own[A].model}`)).status, 200, 'A keeps it');
  },
  'POST /v1/pipelines': () =>
    likeUnknown(
      'POST',
      () => '/v1/pipelines',
      own[A].model,
      NEVER.model,
      (modelId) => ({
        name: 'steal',
        modelId,
      }),
    ),
  'GET /v1/pipelines': async () => {
    assert.deepEqual(ids(await as(B, 'GET', '/v1/pipelines')), [own[B].pipeline]);
  },
  'GET /v1/pipelines/:id': () =>
    likeUnknown('GET', (id) => `/v1/pipelines/${id}`, own[A].pipeline, NEVER.pipeline),
  'PUT /v1/pipelines/:id': async () => {
    const body = { name: 'taken over', modelId: own[B].model };
    await likeUnknown(
      'PUT',
      (id) => `/v1/pipelines/${id}`,
      own[A].pipeline,
      NEVER.pipeline,
      () => body,
    );
    // B's own pipeline pointed at A's model: A's model is as unknown as any.
    await likeUnknown(
      'PUT',
      () => `/v1/pipelines/${own[B].pipeline}`,
      own[A].model,
      NEVER.model,
      (modelId) => ({
        name: 'b',
        modelId,
      }),
    );
    const a = await as(A, 'GET', `/v1/pipelines/${own[A].pipeline}`);
    assert.equal(a.body.version, 1, "A's pipeline is unchanged");
    assert.equal(a.body.name, 'a-pipeline');
  },
  'POST /v1/runs': () =>
    likeUnknown(
      'POST',
      () => '/v1/runs',
      own[A].pipeline,
      NEVER.pipeline,
      (pipelineId) => ({
        pipelineId,
        source: { url: '/media/b.mp4' },
        output: { path: `b-${pipelineId}` },
      }),
    ),
  'GET /v1/runs': async () => {
    assert.deepEqual(ids(await as(B, 'GET', '/v1/runs')), [own[B].run]);
    assert.deepEqual(ids(await as(B, 'GET', '/v1/runs?status=init_startup,active')), [own[B].run]);
    // A's run as a cursor is as unknown as any id.
    const crossed = await as(B, 'GET', `/v1/runs?cursor=${own[A].run}`);
    const unknown = await as(B, 'GET', `/v1/runs?cursor=${NEVER.run}`);
    assert.equal(crossed.status, 400);
    assert.deepEqual(crossed.body, unknown.body);
  },
  'GET /v1/runs/:id': () => likeUnknown('GET', (id) => `/v1/runs/${id}`, own[A].run, NEVER.run),
  'GET /v1/runs/:id/transitions': () =>
    likeUnknown('GET', (id) => `/v1/runs/${id}/transitions`, own[A].run, NEVER.run),
  'POST /v1/runs/:id/stop': async () => {
    await likeUnknown('POST', (id) => `/v1/runs/${id}/stop`, own[A].run, NEVER.run);
    const a = await as(A, 'GET', `/v1/runs/${own[A].run}`);
    assert.equal(a.body.desiredState, 'running', "A's run was not stopped");
    assert.equal(a.body.status, 'init_startup');
  },
  'GET /v1/runs/:id/detections': async () => {
    await likeUnknown('GET', (id) => `/v1/runs/${id}/detections`, own[A].run, NEVER.run);
    await likeUnknown('GET', (id) => `/v1/runs/${id}/detections?latest`, own[A].run, NEVER.run);
  },
  'GET /v1/runs/:id/events': async () => {
    await likeUnknown('GET', (id) => `/v1/runs/${id}/events`, own[A].run, NEVER.run);
    await likeUnknown('GET', (id) => `/v1/runs/${id}/events?since=0`, own[A].run, NEVER.run);
  },
  'GET /v1/runs/:id/events/:eventId/snapshot': () =>
    likeUnknown('GET', (id) => `/v1/runs/${id}/events/evt-1/snapshot`, own[A].run, NEVER.run),
  'GET /v1/events': async () => {
    // An event of A's run is in the stream: A's tenant-wide feed shows it, B's never does, even
    // when B names A's run.
    const bus = await Bus.connect({
      servers: natsUrl(),
      name: 'tenant-scoping',
      logger: createLogger({ service: 'tenant-scoping', level: 'silent' }),
    });
    try {
      const jsm = await bus.nc.jetstreamManager();
      await jsm.streams.add({ name: 'SIE_EVENTS', subjects: ['sie.evt.>'] }).catch(() => undefined);
      const e = Event.fromPartial({
        id: `evt-scope-${process.pid}`,
        tenantId: A,
        runId: own[A].run,
        ruleId: 'door',
        kind: 'line_cross',
        captureTimeMs: Date.now(),
        message: 'secret of A',
      });
      await bus.nc
        .jetstream()
        .publish(eventSubject(A, own[A].run, 'door'), Event.encode(e).finish(), { msgID: e.id });
    } finally {
      await bus.close();
    }
    const feed = async (tenant: string, query: string): Promise<string> => {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 1500);
      let text = '';
      try {
        const res = await fetch(`${base}/v1/events?since=0${query}`, {
          headers: { 'x-sie-tenant': tenant },
          signal: ctl.signal,
        });
        assert.equal(res.status, 200);
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      } finally {
        clearTimeout(timer);
      }
      return text;
    };
    assert.match(await feed(A, ''), /secret of A/, "A's own feed carries its event");
    assert.doesNotMatch(await feed(B, ''), /secret of A/);
    assert.doesNotMatch(await feed(B, `&runId=${own[A].run}`), /secret of A/);
  },
  'POST /v1/predict': () =>
    likeUnknown('POST', () => '/v1/predict', own[A].model, NEVER.model, predictForm),
};

before(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sie-tenants-'));
  const port = await findFreePort();
  api = await startServiceProcess('api', {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl(),
    SIE_HTTP__PORT: String(port),
    SIE_DATA_DIR: dataDir,
    SIE_INFERENCE_URL: `127.0.0.1:${await findFreePort()}`,
  });
  base = `http://127.0.0.1:${port}`;
  for (const t of [A, B] as const) {
    const letter = t === A ? 'a' : 'b';
    const m = await as(t, 'POST', '/v1/models', modelForm(`${letter}-model`));
    assert.equal(m.status, 201, JSON.stringify(m.body));
    own[t].model = String(m.body.id);
    const p = await as(t, 'POST', '/v1/pipelines', {
      name: `${letter}-pipeline`,
      modelId: own[t].model,
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    own[t].pipeline = String(p.body.id);
    const r = await as(t, 'POST', '/v1/runs', {
      pipelineId: own[t].pipeline,
      source: { url: `/media/${letter}.mp4` },
      output: { path: `${letter}-out` },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    own[t].run = String(r.body.id);
  }
});

after(async () => {
  await api?.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('every tenant-scoped route of the OpenAPI document is in the table, and only those', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { $ref?: string }[] }>>;
  };
  const scoped: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op.parameters?.some((p) => p.$ref === '#/components/parameters/Tenant')) {
        scoped.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      }
    }
  }
  const missing = scoped.filter((r) => !(r in TABLE));
  assert.deepEqual(missing, [], 'tenant-scoped routes without a cross-tenant case in TABLE');
  const stale = Object.keys(TABLE).filter((r) => !scoped.includes(r));
  assert.deepEqual(stale, [], 'TABLE rows for routes the API no longer has (or no longer scopes)');
});

test("tenant B cannot see, change, stop, delete, use or subscribe to tenant A's things", async (t) => {
  for (const [route, check] of Object.entries(TABLE)) {
    await t.test(route, check);
  }
  // A still sees exactly its own, untouched.
  assert.deepEqual(ids(await as(A, 'GET', '/v1/models')), [own[A].model]);
  assert.deepEqual(ids(await as(A, 'GET', '/v1/pipelines')), [own[A].pipeline]);
  assert.deepEqual(ids(await as(A, 'GET', '/v1/runs')), [own[A].run]);
  recordReliability({
    suite: 'input',
    name: 'Tenant scoping: another tenant’s runs, models, pipelines and event streams',
    outcome: 'rejected',
    dataLost: 'none',
    detail: `${Object.keys(TABLE).length} tenant-scoped routes from the OpenAPI document: 404 exactly like an unknown id, lists never cross, nothing of A's changed`,
  });
});
