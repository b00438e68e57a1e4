/**
 * Property-based fuzzing of every API route that takes a body, a query, a form or an id: arbitrary
 * JSON, near-valid bodies (one wrong field or one unknown/hostile key), refused source URLs,
 * hostile query strings and tenant headers. For each, the answer is a 4xx with the documented
 * error body (a stable `code`; `issues` naming the field for validation errors) within a
 * deadline, nothing is written to the database, no prototype is polluted, and the API stays
 * healthy. The seed is printed (test diagnostics) and `SIE_FUZZ_SEED` replays it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test, type TestContext } from 'node:test';
import { resolveSharedAsset } from '@sie/infra';
import { COCO_CLASS_NAMES } from '@sie/models';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { startTestApi, type TestApi } from './testing/harness.js';
import {
  anyBodyText,
  hostileKey,
  hostileString,
  nearValid,
  pathSegment,
  RAW_PATH_SEGMENTS,
  refusedSourceUrl,
} from './testing/hostile.js';
import { recordRejectedInput } from './testing/reliability.js';

const SEED = Number(process.env.SIE_FUZZ_SEED ?? Date.now() % 0x7fffffff);
const RUNS = Number(process.env.SIE_FUZZ_RUNS ?? 120);
/** Longest any single answer may take: a hang fails the property instead of the whole file. */
const ANSWER_DEADLINE_MS = 15_000;

/** Every code the API answers a client error with (http/error-handler.ts). */
const CLIENT_CODES = new Set([
  'invalid_argument',
  'invalid_json',
  'source_invalid',
  'model_error',
  'image_invalid',
  'not_found',
  'model_not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'bad_request',
  'header_too_large',
  'request_timeout',
]);

const OWNER = 'fuzz-owner';
const INTRUDER = 'fuzz-intruder';

let api: TestApi;
let modelId = '';
let pipelineId = '';
let runId = '';

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  text: string;
}

async function send(
  method: string,
  path: string,
  init: { body?: string | FormData; contentType?: string; tenant?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.contentType) headers['content-type'] = init.contentType;
  if (init.tenant !== undefined) headers['x-sie-tenant'] = init.tenant;
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
  });
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

const sendJson = (method: string, path: string, text: string, tenant = OWNER): Promise<Answer> =>
  send(method, path, { body: text, contentType: 'application/json', tenant });

/** A 4xx with the documented error body; for validation errors, every issue has a path. */
function assertClientError(a: Answer, allowed: number[] = []): void {
  const ok = (a.status >= 400 && a.status < 500) || allowed.includes(a.status);
  assert.ok(ok, `expected a client error, got ${a.status}: ${a.text.slice(0, 300)}`);
  const body = a.body;
  assert.ok(body && typeof body === 'object', `error body is JSON: ${a.text.slice(0, 200)}`);
  assert.equal(typeof body.code, 'string');
  assert.ok(CLIENT_CODES.has(body.code as string), `unknown code ${String(body.code)}`);
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).length > 0);
  if (body.issues !== undefined || body.code === 'invalid_argument') {
    const issues = body.issues as { path: unknown; message: unknown }[];
    assert.ok(Array.isArray(issues) && issues.length > 0, 'validation errors list their issues');
    for (const i of issues) {
      assert.equal(typeof i.path, 'string');
      assert.equal(typeof i.message, 'string');
    }
  }
}

/** The issue list names `path` (or a field under it). */
function assertNames(a: Answer, path: string): void {
  if (a.body?.code === 'invalid_json') return; // __proto__ and friends are refused by the parser
  const issues = (a.body?.issues ?? []) as { path: string }[];
  assert.ok(
    issues.some((i) => i.path === path || i.path.startsWith(`${path}.`)),
    `issues ${JSON.stringify(issues)} should name ${path}`,
  );
}

/** Everything a rejected request could have changed, as one comparable value. */
async function snapshot(): Promise<unknown> {
  const q = async (text: string): Promise<unknown[]> => (await api.db.execute(sql.raw(text))).rows;
  return {
    counts: await q(
      `select (select count(*) from tenants) t, (select count(*) from models) m,
              (select count(*) from pipelines) p, (select count(*) from runs) r,
              (select count(*) from run_transitions) rt, (select count(*) from outbox) o`,
    ),
    pipelines: await q('select id, version, name, model_id from pipelines order by id'),
    runs: await q('select id, status, desired_state from runs order by id'),
    models: await q('select id, deleted_at from models order by id'),
  };
}

/**
 * Runs one property over `RUNS` generated inputs and checks what must hold around it: no write,
 * no prototype pollution, the API healthy. Records the class for the reliability report.
 */
async function fuzz<T>(
  t: TestContext,
  name: string,
  arb: fc.Arbitrary<T>,
  check: (input: T) => Promise<void>,
  runs = RUNS,
  options: { writes?: boolean } = {},
): Promise<void> {
  t.diagnostic(`fast-check seed ${SEED} (replay with SIE_FUZZ_SEED=${SEED}), ${runs} runs`);
  const before = await snapshot();
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  await fc.assert(fc.asyncProperty(arb, check), { seed: SEED, numRuns: runs });
  if (!options.writes) {
    assert.deepEqual(await snapshot(), before, 'a rejected request wrote to the database');
  }
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const health = await send('GET', '/healthz');
  assert.equal(health.status, 200, 'the API is still healthy');
  const works = await send('GET', `/v1/pipelines/${pipelineId}`, { tenant: OWNER });
  assert.equal(works.status, 200, 'and still serves a valid request');
  recordRejectedInput(
    name,
    options.writes
      ? `${runs} generated inputs, each stored as sent or answered 4xx with a stable code, never 5xx (seed ${SEED})`
      : `${runs} generated inputs, every one answered 4xx with a stable code, nothing written (seed ${SEED})`,
  );
}

const yoloxMetadata = {
  name: 'fuzz-yolox',
  decoder: { type: 'yolox', decodedInGraph: true },
  inputWidth: 416,
  inputHeight: 416,
  classNames: COCO_CLASS_NAMES,
  pixelOrder: 'bgr',
  pixelScale: 1,
  padValue: 114,
};

before(async () => {
  api = await startTestApi();
  const form = new FormData();
  form.append('metadata', JSON.stringify(yoloxMetadata));
  const model = readFileSync(resolveSharedAsset('models/yolox_nano_coco.onnx'));
  form.append('file', new Blob([model]), 'model.onnx');
  const m = await send('POST', '/v1/models', { body: form, tenant: OWNER });
  assert.equal(m.status, 201, m.text);
  modelId = String(m.body?.id);
  const p = await sendJson('POST', '/v1/pipelines', JSON.stringify(validPipeline()));
  assert.equal(p.status, 201, p.text);
  pipelineId = String(p.body?.id);
  const r = await sendJson('POST', '/v1/runs', JSON.stringify(validRun()));
  assert.equal(r.status, 202, r.text);
  runId = String(r.body?.id);
});

after(async () => {
  await api?.close();
});

function validPipeline(): Record<string, unknown> {
  return {
    name: 'door',
    modelId,
    config: {
      scoreThreshold: 0.4,
      sampleFps: 5,
      outputWidth: 640,
      style: { boxThickness: 2, showLabels: true },
      retry: { startupAttempts: 3, backoff: 'fixed' },
    },
  };
}

function validRun(): Record<string, unknown> {
  return {
    pipelineId,
    source: { url: '/media/fuzz/cam.mp4', loop: false, realtime: true, rtspTransport: 'tcp' },
    output: { path: 'fuzz/out' },
  };
}

test('POST /v1/pipelines: arbitrary bodies are refused with a stable code', async (t) => {
  await fuzz(t, 'API body fuzz: POST /v1/pipelines (arbitrary JSON)', anyBodyText, async (text) => {
    const a = await sendJson('POST', '/v1/pipelines', text);
    assertClientError(a);
  });
});

test('POST /v1/pipelines: one wrong field or unknown key is refused naming it', async (t) => {
  await fuzz(
    t,
    'API body fuzz: POST /v1/pipelines (one wrong field or hostile key)',
    nearValid(validPipeline()),
    async (nv) => {
      const a = await sendJson('POST', '/v1/pipelines', nv.text);
      assertClientError(a);
      assert.equal(a.status, 400, a.text);
      assertNames(a, nv.path);
    },
  );
});

test('PUT /v1/pipelines/:id: a wrong body changes nothing, not even the version', async (t) => {
  await fuzz(
    t,
    'API body fuzz: PUT /v1/pipelines/:id',
    fc.oneof(
      nearValid(validPipeline()),
      anyBodyText.map((text) => ({ text, path: '', what: 'any' })),
    ),
    async (nv) => {
      const a = await sendJson('PUT', `/v1/pipelines/${pipelineId}`, nv.text);
      assertClientError(a);
      if (nv.path !== '') assertNames(a, nv.path);
    },
  );
});

test('POST /v1/runs: arbitrary and near-valid bodies are refused, nothing enqueued', async (t) => {
  await fuzz(
    t,
    'API body fuzz: POST /v1/runs',
    fc.oneof(
      nearValid(validRun()),
      anyBodyText.map((text) => ({ text, path: '', what: 'any' })),
    ),
    async (nv) => {
      const a = await sendJson('POST', '/v1/runs', nv.text);
      assertClientError(a);
      if (nv.path !== '' && a.body?.code !== 'source_invalid') assertNames(a, nv.path);
    },
  );
});

test('POST /v1/runs and /v1/sources/probe refuse every forbidden source URL', async (t) => {
  await fuzz(
    t,
    'API source URL fuzz: schemes (concat:, subfile:, http:, …), traversal, relative paths',
    fc.tuple(refusedSourceUrl, fc.boolean()),
    async ([url, probe]) => {
      const a = probe
        ? await sendJson('POST', '/v1/sources/probe', JSON.stringify({ url }))
        : await sendJson(
            'POST',
            '/v1/runs',
            JSON.stringify({ ...validRun(), source: { url }, output: {} }),
          );
      assertClientError(a);
      assert.equal(a.status, 400, a.text);
      assert.ok(['source_invalid', 'invalid_argument'].includes(String(a.body?.code)), a.text);
    },
  );
});

test('POST /v1/sources/probe: arbitrary bodies never reach ffprobe', async (t) => {
  await fuzz(
    t,
    'API body fuzz: POST /v1/sources/probe',
    fc.oneof(
      nearValid({ url: 'rtsp://cam.invalid/stream', rtspTransport: 'tcp', timeoutMs: 100 }),
      anyBodyText.map((text) => ({ text, path: '', what: 'any' })),
    ),
    async (nv) => {
      const a = await sendJson('POST', '/v1/sources/probe', nv.text);
      // A random absolute path is a legal source: probing it answers "not reachable", not an error.
      if (a.status === 200) {
        assert.equal(a.body?.reachable, false, a.text);
        return;
      }
      assertClientError(a);
    },
  );
});

test('POST /v1/models: hostile metadata is refused before the file is kept', async (t) => {
  await fuzz(
    t,
    'API form fuzz: POST /v1/models metadata',
    fc.tuple(
      fc.oneof(
        nearValid(yoloxMetadata),
        anyBodyText.map((text) => ({ text, path: '', what: 'any' })),
      ),
      fc.uint8Array({ maxLength: 256 }),
    ),
    async ([nv, file]) => {
      const form = new FormData();
      form.append('metadata', nv.text);
      form.append('file', new Blob([file]), 'model.onnx');
      const a = await send('POST', '/v1/models', { body: form, tenant: OWNER });
      assertClientError(a);
      if (nv.path !== '' && a.body?.code === 'invalid_argument')
        assertNames(a, `metadata.${nv.path}`);
    },
    60,
  );
});

test('POST /v1/predict: hostile fields are refused', async (t) => {
  await fuzz(
    t,
    'API form fuzz: POST /v1/predict fields',
    fc.record({
      modelId: fc.option(fc.oneof(hostileString, fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/))),
      scoreThreshold: fc.option(
        fc.oneof(hostileString, fc.constantFrom('2', '-1', 'NaN', '1e400')),
      ),
      classes: fc.option(fc.oneof(hostileString, fc.constantFrom('[', '[1,2]', '{"a":1}'))),
      extra: fc.option(fc.tuple(hostileKey, hostileString)),
      image: fc.uint8Array({ maxLength: 128 }),
    }),
    async (f) => {
      const form = new FormData();
      if (f.modelId !== null) form.append('modelId', f.modelId);
      if (f.scoreThreshold !== null) form.append('scoreThreshold', f.scoreThreshold);
      if (f.classes !== null) form.append('classes', f.classes);
      if (f.extra !== null && f.extra[0] !== '') form.append(f.extra[0], f.extra[1]);
      form.append('image', new Blob([f.image]), 'x.jpg');
      const a = await send('POST', '/v1/predict', { body: form, tenant: OWNER });
      assertClientError(a);
    },
    60,
  );
});

const queryArb = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('status', 'limit', 'cursor', 'latest', 'since'), hostileKey),
      fc.oneof(
        hostileString,
        fc.constantFrom('0', '-1', '201', '1e3', '50', 'active,failed', 'active,nope', ''),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => {
    const q = new URLSearchParams();
    for (const [k, v] of pairs) q.append(k, v);
    return q.toString();
  });

test('GET /v1/runs: hostile pagination and filters answer a page or a 400, never more', async (t) => {
  await fuzz(t, 'API query fuzz: GET /v1/runs (status, limit, cursor)', queryArb, async (q) => {
    const a = await send('GET', `/v1/runs?${q}`, { tenant: OWNER });
    if (a.status === 200) {
      assert.ok(Array.isArray(a.body?.items), a.text);
      return;
    }
    assertClientError(a);
    assert.ok([400, 431].includes(a.status), a.text);
  });
});

test("SSE queries: detections and events of another tenant's run answer 400 or 404", async (t) => {
  await fuzz(
    t,
    'API query fuzz: GET /v1/runs/:id/detections and /events',
    fc.tuple(queryArb, fc.boolean()),
    async ([q, events]) => {
      const a = await send('GET', `/v1/runs/${runId}/${events ? 'events' : 'detections'}?${q}`, {
        tenant: INTRUDER,
      });
      assertClientError(a);
      assert.ok([400, 404, 431].includes(a.status), a.text);
    },
  );
});

test('ids in the URL: any string is an unknown id or a 400, never an error', async (t) => {
  const routes: [string, (id: string) => string][] = [
    ['GET', (id) => `/v1/runs/${id}`],
    ['GET', (id) => `/v1/runs/${id}/transitions`],
    ['POST', (id) => `/v1/runs/${id}/stop`],
    ['GET', (id) => `/v1/runs/${id}/detections?latest`],
    ['GET', (id) => `/v1/runs/${id}/events?since=x`],
    ['GET', (id) => `/v1/pipelines/${id}`],
    ['GET', (id) => `/v1/models/${id}`],
    ['DELETE', (id) => `/v1/models/${id}`],
  ];
  await fuzz(
    t,
    'API path fuzz: ids of runs, pipelines and models',
    fc.tuple(
      fc.constantFrom(...routes),
      fc.oneof(
        hostileString.map(pathSegment),
        hostileKey.map(pathSegment),
        fc.constantFrom(...RAW_PATH_SEGMENTS),
      ),
    ),
    async ([[method, path], id]) => {
      const a = await send(method, path(id), { tenant: OWNER });
      assertClientError(a);
      // 414: longer than Fastify's maxParamLength; 431: longer than Node's header limit.
      assert.ok([400, 404, 414, 431].includes(a.status), a.text);
    },
  );
});

test('the tenant header: any value is a tenant id or a 400 naming the header', async (t) => {
  await fuzz(
    t,
    'API header fuzz: x-sie-tenant',
    // Header values must be Latin-1 without CR/LF/NUL for fetch to send them at all.
    fc
      .string({ unit: 'binary-ascii', maxLength: 200 })
      // eslint-disable-next-line no-control-regex
      .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, '').trim()),
    async (tenant) => {
      const a = await send('GET', '/v1/pipelines', { tenant });
      if (a.status === 200) {
        assert.ok(/^[A-Za-z0-9_-]{1,128}$/.test(tenant) || tenant === '', tenant);
        const items = a.body?.items as { id: string }[];
        if (tenant !== OWNER) assert.ok(!items.some((p) => p.id === pipelineId), 'no leak');
        return;
      }
      assertClientError(a);
      assertNames(a, 'headers.x-sie-tenant');
    },
  );
});

test('content types and non-JSON bodies on JSON routes are refused', async (t) => {
  await fuzz(
    t,
    'API body fuzz: wrong content types on JSON routes',
    fc.tuple(
      fc.constantFrom('/v1/pipelines', '/v1/runs', '/v1/sources/probe'),
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        'image/png',
      ),
      fc.oneof(
        hostileString,
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
      ),
    ),
    async ([path, contentType, body]) => {
      const a = await send('POST', path, { body, contentType, tenant: OWNER });
      assertClientError(a);
    },
    40,
  );
});

test('well-formed bodies with hostile strings (NUL, lone surrogates, RTL, 70 kB) are stored or refused, never 5xx', async (t) => {
  const WRITER = 'fuzz-writer';
  const form = new FormData();
  form.append('metadata', JSON.stringify(yoloxMetadata));
  const model = readFileSync(resolveSharedAsset('models/yolox_nano_coco.onnx'));
  form.append('file', new Blob([model]), 'model.onnx');
  const m = await send('POST', '/v1/models', { body: form, tenant: WRITER });
  assert.equal(m.status, 201, m.text);
  const writerModel = String(m.body?.id);
  const p = await sendJson(
    'POST',
    '/v1/pipelines',
    JSON.stringify({ name: 'w', modelId: writerModel }),
    WRITER,
  );
  const writerPipeline = String(p.body?.id);
  await fuzz(
    t,
    'API body fuzz: hostile strings inside well-formed pipelines and runs',
    fc.tuple(hostileString, hostileString, fc.boolean()),
    async ([a, b, run]) => {
      const res = run
        ? await sendJson(
            'POST',
            '/v1/runs',
            JSON.stringify({
              pipelineId: writerPipeline,
              source: { url: `/media/${a}` },
              output: { path: b },
            }),
            WRITER,
          )
        : await sendJson(
            'POST',
            '/v1/pipelines',
            JSON.stringify({
              name: a,
              modelId: writerModel,
              config: {
                classes: [b],
                zones: [
                  {
                    id: 'z',
                    name: b,
                    polygon: [
                      [0, 0],
                      [1, 0],
                      [1, 1],
                    ],
                  },
                ],
              },
            }),
            WRITER,
          );
      if (res.status === 201 || res.status === 202) {
        // Stored: it reads back exactly as sent.
        const id = String(res.body?.id);
        const back = await send('GET', `/v1/${run ? 'runs' : 'pipelines'}/${id}`, {
          tenant: WRITER,
        });
        assert.equal(back.status, 200, back.text);
        if (!run) assert.equal(back.body?.name, a);
        return;
      }
      assertClientError(res);
    },
    60,
    { writes: true },
  );
});

test('a body nested 200 000 levels deep is refused, the API unharmed', async (t) => {
  await fuzz(
    t,
    'API body fuzz: extreme nesting (200 000 levels)',
    fc.constantFrom('/v1/pipelines', '/v1/runs', '/v1/sources/probe'),
    async (path) => {
      const n = 200_000;
      const a = await sendJson('POST', path, `{"config":${'['.repeat(n)}${']'.repeat(n)}}`);
      assertClientError(a);
      const b = await sendJson('POST', path, `${'{"a":'.repeat(n / 2)}1${'}'.repeat(n / 2)}`);
      assertClientError(b);
    },
    3,
  );
});
