/**
 * Upload limits and bad model files against the real API process: a 50 MiB model upload streamed
 * to an API configured for 1 MiB is answered 413 while the client is still sending, the API's
 * memory does not grow by anything near the body, and nothing is kept (no file, no row); the same
 * for a JSON body over http.bodyLimitBytes. Files that are not ONNX (text, truncated, random
 * bytes) and ONNX graphs of the wrong shape are refused with model_error naming the reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createDb, type DbHandle } from '@sie/db';
import { findFreePort, freshDatabase, type TestDatabase } from '@sie/infra';
import { sql } from 'drizzle-orm';
import { asset, natsUrl } from './support/env.js';
import { ElemType, identityModel } from './support/onnx-builder.js';
import { recordReliability } from './support/reliability-log.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

const MiB = 1 << 20;
const LIMIT = 1 * MiB;
const SENT = 50 * MiB;
const TENANT = 'uploads';

let database: TestDatabase;
let handle: DbHandle;
let dataDir: string;
let api: ServiceProcess;
let port: number;

before(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sie-upload-limits-'));
  port = await findFreePort();
  api = await startServiceProcess('api', {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl(),
    SIE_HTTP__PORT: String(port),
    SIE_HTTP__BODY_LIMIT_BYTES: String(LIMIT),
    SIE_MODELS__MAX_UPLOAD_BYTES: String(LIMIT),
    SIE_DATA_DIR: dataDir,
    SIE_INFERENCE_URL: `127.0.0.1:${await findFreePort()}`,
  });
  handle = createDb(database.url, { max: 1 });
});

after(async () => {
  await api?.stop();
  await handle?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function rssBytes(): number {
  const status = readFileSync(`/proc/${api.child.pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

async function rows(): Promise<number> {
  const r = await handle.db.execute(
    sql`select (select count(*) from models)::int + (select count(*) from pipelines)::int
      + (select count(*) from tenants)::int as n`,
  );
  return Number((r.rows[0] as { n: number }).n);
}

/** Every file in the model store, temp uploads included. */
function storeFiles(): string[] {
  const dir = join(dataDir, 'models');
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  walk(dir, '');
  return out;
}

interface Streamed {
  status: number;
  body: Record<string, unknown>;
  /** Bytes the client had handed to the socket when the answer's head arrived. */
  sentAtAnswer: number;
  peakRssGrowth: number;
}

/**
 * POSTs `head`, then `total` bytes from a generator, then `tail`, chunked (no declared length),
 * honouring backpressure, until the API answers; samples the API's RSS meanwhile.
 */
async function streamBody(
  path: string,
  contentType: string,
  head: Buffer,
  total: number,
  tail: Buffer,
): Promise<Streamed> {
  const baseline = rssBytes();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes());
  }, 20);
  let sent = 0;
  let answered = false;
  try {
    return await new Promise<Streamed>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': contentType, 'x-sie-tenant': TENANT },
      });
      req.on('response', (res) => {
        answered = true;
        const sentAtAnswer = sent;
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          req.destroy();
          peak = Math.max(peak, rssBytes());
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Record<string, unknown>,
            sentAtAnswer,
            peakRssGrowth: peak - baseline,
          });
        });
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      const chunk = randomBytes(64 * 1024);
      const pump = (): void => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end(tail);
      };
      req.write(head);
      pump();
    });
  } finally {
    clearInterval(sampler);
  }
}

test('a 50 MiB model streamed to a 1 MiB limit is refused with 413 before it is sent, nothing kept', async () => {
  const rowsBefore = await rows();
  const boundary = 'sie-limit-boundary';
  const metadata = JSON.stringify({
    name: 'big',
    decoder: { type: 'yolox', decodedInGraph: true },
    inputWidth: 416,
    inputHeight: 416,
    classNames: ['person'],
  });
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.onnx"\r\n` +
      'content-type: application/octet-stream\r\n\r\n',
  );
  const r = await streamBody(
    '/v1/models',
    `multipart/form-data; boundary=${boundary}`,
    head,
    SENT,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  assert.equal(r.status, 413, JSON.stringify(r.body));
  assert.equal(r.body.code, 'payload_too_large');
  assert.ok(r.sentAtAnswer < SENT, `answered after ${r.sentAtAnswer} of ${SENT} bytes`);
  assert.ok(r.peakRssGrowth < 20 * MiB, `API RSS grew by ${r.peakRssGrowth} bytes`);
  // The temp file is removed once the refusal is handled; give it a moment.
  const deadline = Date.now() + 5000;
  while (storeFiles().length > 0 && Date.now() < deadline)
    await new Promise((s) => setTimeout(s, 50));
  assert.deepEqual(storeFiles(), [], 'no partial file in the model store');
  assert.equal(await rows(), rowsBefore, 'no row written');
  recordReliability({
    suite: 'input',
    name: 'API: model upload over models.maxUploadBytes (50 MiB streamed, limit 1 MiB)',
    outcome: 'rejected',
    dataLost: 'none',
    detail: `413 payload_too_large after ${Math.round(r.sentAtAnswer / MiB)} MiB sent; API RSS +${Math.round(r.peakRssGrowth / MiB)} MiB; no file, no row`,
  });
});

test('a 50 MiB JSON body over http.bodyLimitBytes is refused with 413 before it is sent, every time', async () => {
  const rowsBefore = await rows();
  const r = await streamBody(
    '/v1/pipelines',
    'application/json',
    Buffer.from('{"name":"'),
    SENT,
    Buffer.from('"}'),
  );
  assert.equal(r.status, 413, JSON.stringify(r.body));
  assert.equal(r.body.code, 'payload_too_large');
  assert.ok(r.sentAtAnswer < SENT, `answered after ${r.sentAtAnswer} of ${SENT} bytes`);
  assert.ok(r.peakRssGrowth < 20 * MiB, `API RSS grew by ${r.peakRssGrowth} bytes`);
  assert.equal(await rows(), rowsBefore);
  // The API drains what the client is still sending rather than resetting the socket, which could
  // wipe the answer before the client reads it: every refusal must reach the client, not EPIPE.
  for (let i = 0; i < 10; i++) {
    const again = await streamBody(
      '/v1/pipelines',
      'application/json',
      Buffer.from('{"name":"'),
      SENT,
      Buffer.from('"}'),
    );
    assert.equal(again.status, 413, `attempt ${i + 2}: ${JSON.stringify(again.body)}`);
  }
  recordReliability({
    suite: 'input',
    name: 'API: JSON body over http.bodyLimitBytes (50 MiB streamed, limit 1 MiB)',
    outcome: 'rejected',
    dataLost: 'none',
    detail: `413 payload_too_large after ${Math.round(r.sentAtAnswer / MiB)} MiB sent; API RSS +${Math.round(r.peakRssGrowth / MiB)} MiB; no row`,
  });
});

async function upload(
  file: Buffer,
  meta: Record<string, unknown> = {},
): Promise<Record<string, unknown> & { status: number }> {
  const form = new FormData();
  form.append(
    'metadata',
    JSON.stringify({
      name: 'm',
      decoder: { type: 'yolox', decodedInGraph: true },
      inputWidth: 416,
      inputHeight: 416,
      classNames: ['person'],
      ...meta,
    }),
  );
  form.append('file', new Blob([file]), 'm.onnx');
  const res = await fetch(`http://127.0.0.1:${port}/v1/models`, {
    method: 'POST',
    body: form,
    headers: { 'x-sie-tenant': TENANT },
  });
  return { status: res.status, ...((await res.json()) as Record<string, unknown>) };
}

test('files that are not ONNX are refused with model_error naming the cause, nothing kept', async () => {
  const rowsBefore = await rows();
  const model = readFileSync(asset('models/yolox_nano_coco.onnx'));
  const cases: [string, Buffer][] = [
    ['a text file', Buffer.from('this is not a neural network\n'.repeat(50))],
    ['a truncated ONNX file', model.subarray(0, 600_000)],
    ['random bytes', randomBytes(8192)],
    ['an empty file', Buffer.alloc(0)],
  ];
  for (const [what, bytes] of cases) {
    const r = await upload(bytes);
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r)}`);
    assert.equal(r.code, 'model_error', what);
    assert.match(String(r.message), /not an ONNX model|ONNX|protobuf|load/i, what);
  }
  assert.deepEqual(storeFiles(), []);
  assert.equal(await rows(), rowsBefore);
  recordReliability({
    suite: 'input',
    name: 'API: model files that are not ONNX (text, truncated, random, empty)',
    outcome: 'rejected',
    dataLost: 'none',
    detail: '400 model_error with the ONNX Runtime reason; no file, no row',
  });
});

test('ONNX graphs of the wrong shape are refused naming the mismatch', async () => {
  const rowsBefore = await rows();
  const cases: [string, Buffer, RegExp][] = [
    ['a 3-D input', identityModel([1, 416, 416]), /input x is \[1,416,416\], expected \[N,3,H,W\]/],
    ['a single-channel input', identityModel([1, 1, 416, 416]), /expected \[N,3,H,W\]/],
    ['an int64 input', identityModel([1, 3, 416, 416], ElemType.INT64), /int64, expected float32/],
    [
      'a smaller input than declared',
      identityModel([1, 3, 320, 320]),
      /height 320, metadata says inputHeight 416/,
    ],
    [
      'an output the decoder cannot read',
      identityModel(['N', 3, 416, 416]),
      /yolox decoder expects/,
    ],
  ];
  for (const [what, bytes, reason] of cases) {
    const r = await upload(bytes);
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r)}`);
    assert.equal(r.code, 'model_error', what);
    assert.match(String(r.message), reason, what);
  }
  // A classifier head on a detector graph, the other way round.
  const classify = await upload(identityModel([1, 3, 416, 416]), { decoder: { type: 'classify' } });
  assert.equal(classify.status, 400);
  assert.match(String(classify.message), /classify decoder expects \[N, classes\]/);
  assert.deepEqual(storeFiles(), []);
  assert.equal(await rows(), rowsBefore);
  recordReliability({
    suite: 'input',
    name: 'API: ONNX models of the wrong shape (3-D, 1-channel, int64, wrong size, undecodable output)',
    outcome: 'rejected',
    dataLost: 'none',
    detail:
      '400 model_error naming the input or output and what the metadata expects; no file, no row',
  });
});
