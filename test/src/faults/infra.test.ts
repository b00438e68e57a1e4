/**
 * The infrastructure under sie breaks: nats-server restarts (every service reconnects, runs go
 * on, a durable JetStream consumer of rule events sees no gap and no duplicate), Postgres
 * restarts (the API answers 503 `unavailable` meanwhile and recovers, the scheduler keeps its
 * runs, no impossible state), and the model store's disk is full (the upload is refused with
 * 507 `storage_full`, nothing half-written).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Event } from '@sie/contracts';
import { models } from '@sie/db';
import { findFreePort, startServiceProcess, type ServiceProcess } from '@sie/infra';
import { eq } from 'drizzle-orm';
import { asset } from '../support/env.js';
import { recordReliability } from '../support/reliability-log.js';
import { assertConsistent } from './consistency.js';
import { RunMonitor, scrape, type WatchedRun } from './monitor.js';
import { FaultStack, TENANT } from './stack.js';

const STREAM = 'SIE_EVENTS';
const LEASE_MS = 10_000;
// A zone over the whole frame: every person track that appears enters it, so events are frequent.
const RULES = {
  zones: [
    {
      id: 'all',
      polygon: [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
    },
  ],
  lines: [{ id: 'mid', a: [0.5, 0], b: [0.5, 1] }],
  rules: [
    { id: 'enter', kind: 'zone_enter', zone: 'all', classes: ['person'] },
    {
      id: 'cross',
      kind: 'line_cross',
      line: 'mid',
      classes: ['person'],
      params: { direction: 'both' },
    },
  ],
};

let stack: FaultStack;
let monitor: RunMonitor;
let runs: WatchedRun[];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  stack = new FaultStack({ leaseMs: LEASE_MS });
  await stack.start();
  const pipelineId = await stack.createPipeline('infra', {
    sampleFps: 4,
    ...RULES,
    retry: { startupAttempts: 5, reconnectAttempts: 30, intervalMs: 1000 },
  });
  runs = [];
  for (const cam of ['a', 'b']) {
    const url = await stack.cameras.publish(`infra-${cam}`, stack.video);
    runs.push({
      id: await stack.createRun(pipelineId, { url }, `infra/${cam}`),
      outputPath: `infra/${cam}`,
    });
  }
  monitor = new RunMonitor(stack, runs);
  await monitor.waitDelivering(Date.now(), 120_000);
});

after(async () => {
  await stack?.close();
});

/**
 * POSTs a form and reads the answer even when the server answers before the body is sent and
 * closes the connection (as the API does for an upload it refuses); fetch would only report
 * the broken pipe.
 */
async function postEarlyAnswered(
  url: string,
  form: FormData,
): Promise<{ status: number; text: string }> {
  const encoded = new Request(url, { method: 'POST', body: form });
  const bytes = Buffer.from(await encoded.arrayBuffer());
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': encoded.headers.get('content-type') ?? '',
        'content-length': String(bytes.length),
        'x-sie-tenant': TENANT,
      },
    });
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(bytes);
  });
}

/** A durable pull consumer on the events stream; `drain` fetches and acks what is there. */
async function durableConsumer(name: string) {
  const jsm = await stack.bus.nc.jetstreamManager();
  type Add = Parameters<typeof jsm.consumers.add>[1];
  await jsm.consumers.add(STREAM, {
    durable_name: name,
    ack_policy: 'explicit',
    deliver_policy: 'all',
  } as unknown as Add);
  const seen: { seq: number; id: string; redelivered: boolean }[] = [];
  return {
    seen,
    async drain(): Promise<void> {
      const consumer = await stack.bus.nc.jetstream().consumers.get(STREAM, name);
      for (;;) {
        const batch = await consumer.fetch({ max_messages: 500, expires: 1500 });
        let n = 0;
        for await (const m of batch) {
          seen.push({ seq: m.seq, id: Event.decode(m.data).id, redelivered: m.redelivered });
          m.ack();
          n++;
        }
        if (n === 0) return;
      }
    },
  };
}

test(
  'nats-server restart: services reconnect, runs continue, no event lost or duplicated',
  { timeout: 240_000 },
  async (t) => {
    const audit = await durableConsumer(`faults-audit-${process.pid}`);
    // Events before the restart.
    const deadline = Date.now() + 90_000;
    while (audit.seen.length < 3) {
      assert.ok(Date.now() < deadline, 'no rule events before the restart');
      await sleep(2000);
      await audit.drain();
    }
    const before = audit.seen.length;
    const rulesBefore = await scrape(stack.proc('rules').opsPort);
    const pids = Object.fromEntries([...stack.procs].map(([n, p]) => [n, p.pid]));
    const downAt = Date.now();
    await stack.restartNats(3000);
    const perRun = await monitor.waitDelivering(downAt, 90_000);
    // Events after the restart, through the same durable consumer.
    const after = Date.now() + 90_000;
    while (audit.seen.length < before + 3) {
      assert.ok(
        Date.now() < after,
        `no rule events after the restart (${audit.seen.length - before})`,
      );
      await sleep(2000);
      await audit.drain();
    }
    await sleep(2000);
    await audit.drain();
    const rulesAfter = await scrape(stack.proc('rules').opsPort);
    const seqs = audit.seen.map((s) => s.seq);
    const ids = audit.seen.map((s) => s.id);
    const jsm = await stack.bus.nc.jetstreamManager();
    const info = await jsm.streams.info(STREAM);
    // No gap: the consumer got every message of the stream, in order, once.
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => (seqs[0] ?? 1) + i),
    );
    assert.equal(seqs[0], info.state.first_seq);
    assert.equal(seqs[seqs.length - 1], info.state.last_seq);
    assert.equal(new Set(ids).size, ids.length, 'an event id was delivered twice');
    assert.equal(audit.seen.filter((s) => s.redelivered).length, 0);
    const lost =
      rulesAfter('sie_rules_event_publish_errors_total') -
      rulesBefore('sie_rules_event_publish_errors_total');
    assert.equal(lost, 0, `${lost} events JetStream never acknowledged`);
    // Nothing had to be restarted: each service reconnected by itself.
    for (const [name, p] of stack.procs) assert.equal(p.pid, pids[name], `${name} restarted`);
    await assertConsistent(
      stack,
      runs.map((r) => r.id),
    );
    const rows = await stack.runs(runs.map((r) => r.id));
    const restarts = rows.reduce((n, r) => n + r.restarts, 0);
    const worst = Math.max(...perRun.values());
    t.diagnostic(
      `runs delivering ${[...perRun.values()].join(', ')} ms after the stop; ${seqs.length} events (${before} before)`,
    );
    recordReliability({
      suite: 'fault',
      name: 'nats-server restart (3 s down)',
      outcome: 'recovered',
      recoverMs: worst,
      dataLost: 'none',
      detail: `all 7 processes reconnected without a restart; ${runs.length} runs delivering again, ${restarts} run restart(s) (lease ${LEASE_MS} ms); durable consumer on ${STREAM}: ${seqs.length} events (${before} before the restart), stream seq ${seqs[0]}–${seqs[seqs.length - 1]} without gap, no duplicate id, 0 unacknowledged publishes`,
    });
  },
);

test(
  'Postgres restart: the API answers 503 unavailable meanwhile, then recovers; runs keep going',
  { timeout: 240_000 },
  async (t) => {
    const ids = runs.map((r) => r.id);
    const statuses: number[] = [];
    const codes = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const res = await stack.api('GET', '/v1/runs').catch(() => undefined);
        if (res) {
          statuses.push(res.status);
          if (res.status !== 200) codes.add(String(res.body.code));
        }
        await sleep(300);
      }
    })();
    const downAt = Date.now();
    const restart = stack.restartPostgres(5000);
    await sleep(2500);
    // The data plane does not need the database: detections keep coming during the outage.
    const during = Date.now();
    await sleep(2000);
    const framesDuringOutage = Math.min(...ids.map((id) => monitor.detectionsSince(id, during)));
    await restart;
    const upAt = Date.now();
    // Recovered: the API answers again and the scheduler renews the leases it holds.
    let apiBackMs = 0;
    for (;;) {
      const res = await stack.api('GET', '/v1/runs').catch(() => undefined);
      if (res?.status === 200) {
        apiBackMs = Date.now() - downAt;
        break;
      }
      assert.ok(Date.now() - upAt < 60_000, 'the API did not recover');
      await sleep(250);
    }
    let recoverMs = 0;
    for (;;) {
      const rows = await stack.runs(ids);
      const renewed = rows.every(
        (r) => r.status === 'active' && (r.leaseExpiresAt?.getTime() ?? 0) > Date.now() + 1000,
      );
      if (renewed) {
        recoverMs = Date.now() - downAt;
        break;
      }
      assert.ok(Date.now() - upAt < LEASE_MS + 60_000, 'the scheduler did not renew its leases');
      await sleep(250);
    }
    polling = false;
    await poller;
    await monitor.waitDelivering(Date.now(), 30_000);
    await assertConsistent(stack, ids);
    const refused = statuses.filter((s) => s !== 200);
    assert.ok(refused.length > 0, 'no request was refused during the outage');
    assert.deepEqual(
      [...new Set(refused)],
      [503],
      `statuses during the outage: ${statuses.join(',')}`,
    );
    assert.deepEqual([...codes], ['unavailable']);
    assert.ok(framesDuringOutage > 0, 'detections stopped while Postgres was down');
    const rows = await stack.runs(ids);
    const restarts = rows.reduce((n, r) => n + r.restarts, 0);
    t.diagnostic(
      `API back ${apiBackMs} ms, leases renewed ${recoverMs} ms after the stop; ${refused.length} requests refused with 503`,
    );
    recordReliability({
      suite: 'fault',
      name: 'Postgres restart (5 s down)',
      outcome: 'recovered',
      recoverMs,
      dataLost: 'none',
      detail: `API: ${refused.length} requests answered 503 unavailable during the outage (no 500), 200 again ${apiBackMs} ms after the stop; scheduler renewed all leases at ${recoverMs} ms; ${runs.length} runs stayed active and kept delivering detections meanwhile; ${restarts} run restart(s); states consistent`,
    });
  },
);

test(
  'model store disk full: the upload is refused with 507 and nothing is left behind',
  { timeout: 120_000 },
  async (t) => {
    const mountPoint = join(stack.scratch, 'small-store');
    mkdirSync(mountPoint, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], {
        stdio: 'pipe',
      });
    } catch (err) {
      t.skip(
        `cannot mount a small tmpfs for a full disk: ${(err as Error).message.split('\n')[0]}`,
      );
      return;
    }
    let api: ServiceProcess | undefined;
    try {
      const port = await findFreePort();
      api = await startServiceProcess('api', {
        DATABASE_URL: stack.databaseUrl,
        NATS_URL: stack.natsUrl,
        SIE_HTTP__PORT: String(port),
        SIE_DATA_DIR: join(stack.scratch, 'small-api'),
        SIE_MODELS__STORE_DIR: mountPoint,
      });
      const form = new FormData();
      form.append(
        'metadata',
        JSON.stringify({
          name: 'too-big-for-the-disk',
          decoder: { type: 'yolox', decodedInGraph: true },
          inputWidth: 416,
          inputHeight: 416,
          classNames: Array.from({ length: 80 }, (_, i) => (i === 0 ? 'person' : `class${i}`)),
        }),
      );
      const bytes = readFileSync(asset('models/yolox_nano_coco.onnx'));
      form.append('file', new Blob([bytes]), 'yolox.onnx');
      const started = Date.now();
      const res = await postEarlyAnswered(`http://127.0.0.1:${port}/v1/models`, form);
      const body = JSON.parse(res.text) as { code?: string; message?: string };
      assert.equal(res.status, 507, JSON.stringify(body));
      assert.equal(body.code, 'storage_full');
      // Nothing half-written: no file in the store (nor its temp folder), no row.
      const files = readdirSync(mountPoint, { recursive: true, withFileTypes: true }).filter((e) =>
        e.isFile(),
      );
      assert.deepEqual(
        files.map((f) => f.name),
        [],
      );
      const rows = await stack.db.db
        .select()
        .from(models)
        .where(eq(models.name, 'too-big-for-the-disk'));
      assert.equal(rows.length, 0);
      // The API goes on serving.
      const list = await fetch(`http://127.0.0.1:${port}/v1/models`, {
        headers: { 'x-sie-tenant': TENANT },
      });
      assert.equal(list.status, 200);
      t.diagnostic(`${res.status} ${body.code}: ${body.message}`);
      recordReliability({
        suite: 'fault',
        name: 'model store disk full (1 MiB tmpfs, 4.4 MiB upload)',
        outcome: 'rejected',
        recoverMs: Date.now() - started,
        dataLost: 'none',
        detail: `HTTP 507 storage_full: "${body.message}"; no file left in the store or its temp folder, no model row; the API kept serving`,
      });
    } finally {
      await api?.stop();
      execFileSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  },
);
