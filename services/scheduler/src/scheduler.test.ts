/**
 * The scheduler in-process against real Postgres and a private nats-server, with fake stage
 * services (start/stop/ping answers, announcements, heartbeats, reports) that can refuse, go
 * mute or die on cue: the state machine's paths in seconds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { Bus } from '@sie/bus';
import { ModelState, StageEventKind, type ModelInfo, type ModelSpec } from '@sie/contracts';
import { createDb, migrate, models, runTransitions, runs, type DbHandle, type Run } from '@sie/db';
import { ModelError, UnavailableError } from '@sie/errors';
import {
  findFreePort,
  freshDatabase,
  startNats,
  type NatsServer,
  type TestDatabase,
} from '@sie/infra';
import type { ModelLoader } from '@sie/models';
import { Registry } from '@sie/telemetry';
import { asc, eq, inArray, notInArray } from 'drizzle-orm';
import { SchedulerMetrics } from './metrics.js';
import { Scheduler, WAITING_MESSAGE, type SchedulerOptions } from './scheduler.js';
import { FakeNode } from './testing/fake-stage.js';
import { createFixture, enqueueRun, quietLogger, type Fixture } from './testing/fixtures.js';

const LEASE_MS = 1500;
let database: TestDatabase;
let h: DbHandle;
let nats: NatsServer;
let natsDir: string;
let bus: Bus;
let f: Fixture;
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  natsDir = mkdtempSync(join(tmpdir(), 'sie-sched-nats-'));
  [database, nats] = await Promise.all([
    freshDatabase(),
    findFreePort().then((port) => startNats({ port, storeDir: natsDir })),
  ]);
  await migrate(database.url);
  h = createDb(database.url, { max: 10 });
  bus = await Bus.connect({ servers: nats.url, name: 'scheduler-test', logger: quietLogger() });
  f = await createFixture(h.db, { sampleFps: 1, retry: { startupAttempts: 2, intervalMs: 100 } });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  // Whatever a test left running is nobody's work in the next one.
  await h.db
    .update(runs)
    .set({ status: 'failed', leaseOwner: null, leaseExpiresAt: null })
    .where(notInArray(runs.status, ['inactive', 'failed']));
});

after(async () => {
  await bus?.close();
  await h?.close();
  await Promise.allSettled([database?.drop(), nats?.stop()]);
  rmSync(natsDir, { recursive: true, force: true });
});

let nodeSeq = 0;
function node(options: ConstructorParameters<typeof FakeNode>[2] = {}): FakeNode {
  const n = new FakeNode(bus, `node-${process.pid}-${++nodeSeq}`, options);
  cleanups.push(() => n.kill());
  return n;
}

function scheduler(
  id: string,
  options: Partial<SchedulerOptions> = {},
  loader?: ModelLoader,
): Scheduler {
  const s = new Scheduler({
    options: {
      schedulerId: id,
      pollIntervalMs: 100,
      leaseMs: LEASE_MS,
      commandTimeoutMs: 2000,
      maxRestarts: 2,
      maxStartAttempts: 3,
      stages: ['ingest', 'rules', 'render'],
      batchSize: 20,
      nodeSilenceMs: 0,
      moveStartTimeoutMs: 10_000,
      ...options,
    },
    db: h.db,
    bus,
    logger: quietLogger(),
    metrics: new SchedulerMetrics(new Registry()),
    models: loader,
  });
  s.start();
  cleanups.push(() => s.stop());
  return s;
}

async function get(id: string): Promise<Run> {
  const [r] = await h.db.select().from(runs).where(eq(runs.id, id));
  assert.ok(r, `run ${id}`);
  return r;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const status = (id: string, want: Run['status']) =>
  until(`${id} ${want}`, async () => {
    const r = await get(id);
    return r.status === want ? r : undefined;
  });

async function history(id: string): Promise<string[]> {
  const rows = await h.db
    .select()
    .from(runTransitions)
    .where(eq(runTransitions.runId, id))
    .orderBy(asc(runTransitions.id));
  return rows.map((t) => `${t.toStatus}/${t.reasonCode ?? ''}`);
}

async function requestStop(id: string): Promise<void> {
  await h.db.update(runs).set({ desiredState: 'stopped' }).where(eq(runs.id, id));
}

test('a run is placed, started consumers first, becomes active, and stops in source-first order', async () => {
  const n = node();
  scheduler('s1');
  const id = await enqueueRun(h.db, f);
  const active = await status(id, 'active');
  assert.equal(active.nodeId, n.nodeId);
  assert.equal(active.leaseGeneration, 1);
  assert.equal(active.leaseOwner, 's1');
  assert.equal(active.attempts, 1);
  await requestStop(id);
  const done = await status(id, 'inactive');
  assert.equal(done.leaseOwner, null);
  assert.deepEqual(n.commandsFor(id), [
    'render start:1',
    'rules start:1',
    'ingest start:1',
    'ingest stop:1',
    'rules stop:1',
    'render stop:1',
  ]);
  assert.deepEqual(await history(id), [
    'init_startup/created',
    'in_startup_processing/placed',
    'active/source_connected',
    'init_shutdown/stop_requested',
    'in_shutdown_processing/stop_requested',
    'inactive/stop_requested',
  ]);
});

test('the least loaded node gets the run; no node with room leaves runs waiting, not failed', async () => {
  scheduler('s1');
  const waiting = await enqueueRun(h.db, f);
  await until(
    'waiting message',
    async () => (await get(waiting)).reasonMessage === WAITING_MESSAGE,
  );
  assert.equal((await get(waiting)).status, 'init_startup');
  const busy = node({ ingest: { maxRuns: 4, initialRuns: ['someone-else'] } });
  const idle = node({ ingest: { maxRuns: 4 } });
  assert.equal((await status(waiting, 'active')).nodeId, idle.nodeId);
  // A node missing a stage is no candidate: only the idle node's ingest has room left.
  busy.ingest.kill();
  const next = await enqueueRun(h.db, f);
  assert.equal((await status(next, 'active')).nodeId, idle.nodeId);
});

test('a refused start is stopped where it began and placed on another node', async () => {
  const full = node({
    ingest: { refuse: () => ({ code: 'unavailable', message: 'full', details: {} }) },
  });
  // The full node ranks first (fewer runs), refuses, and the run goes to the other.
  const other = node({ rules: { initialRuns: ['x'] } });
  scheduler('s1');
  const id = await enqueueRun(h.db, f);
  const active = await status(id, 'active');
  assert.equal(active.nodeId, other.nodeId);
  assert.equal(active.leaseGeneration, 2);
  assert.equal(active.attempts, 2);
  assert.deepEqual(full.commandsFor(id), [
    'render start:1',
    'rules start:1',
    'ingest start:1',
    'rules stop:1',
    'render stop:1',
  ]);
  assert.deepEqual(await history(id), [
    'init_startup/created',
    'in_startup_processing/placed',
    'init_startup/start_failed',
    'in_startup_processing/placed',
    'active/source_connected',
  ]);
});

test('errors no node can fix fail the run at once with their reason', async () => {
  const n = node({
    ingest: {
      refuse: (run) =>
        run.source?.url.includes('bad')
          ? { code: 'source_invalid', message: 'not a video', details: {} }
          : undefined,
    },
  });
  scheduler('s1');
  const bad = await enqueueRun(h.db, f, { url: '/media/bad.txt' });
  const failed = await status(bad, 'failed');
  assert.equal(failed.reasonCode, 'source_unreachable');
  assert.match(failed.reasonMessage ?? '', /not a video/);
  assert.equal(failed.attempts, 1);

  // A stage that fails later reports it: the run fails and the other stages are stopped.
  const id = await enqueueRun(h.db, f);
  await status(id, 'active');
  n.ingest.runs.delete(id);
  n.ingest.report(id, 1, StageEventKind.STAGE_EVENT_KIND_FAILED, {
    code: 'model_not_found',
    message: 'no model yolox',
    details: {},
  });
  const modelFailed = await status(id, 'failed');
  assert.equal(modelFailed.reasonCode, 'model_error');
  assert.equal(modelFailed.reasonMessage, 'ingest: no model yolox');
  await until('render stopped', async () => !n.stages.render.runs.has(id));
});

test('a stage failing as unavailable (inference lost the model) restarts the run', async () => {
  const n = node();
  scheduler('s1', { maxRestarts: 1 });
  const id = await enqueueRun(h.db, f);
  await status(id, 'active');
  const lost = { code: 'unavailable', message: 'inference no longer has model yolox', details: {} };
  n.ingest.runs.delete(id);
  n.ingest.report(id, 1, StageEventKind.STAGE_EVENT_KIND_FAILED, lost);
  const again = await until('restarted and active', async () => {
    const r = await get(id);
    return r.status === 'active' && r.leaseGeneration === 2 ? r : undefined;
  });
  assert.equal(again.restarts, 1);
  assert.deepEqual((await history(id)).slice(3), [
    'init_startup/restart',
    'in_startup_processing/placed',
    'active/source_connected',
  ]);
  // The restarts are used up: the next such failure ends the run.
  n.ingest.runs.delete(id);
  n.ingest.report(id, 2, StageEventKind.STAGE_EVENT_KIND_FAILED, lost);
  assert.equal((await status(id, 'failed')).reasonCode, 'internal_error');
});

test('a report of an older generation is ignored', async () => {
  const n = node();
  scheduler('s1');
  const id = await enqueueRun(h.db, f);
  await status(id, 'active');
  n.ingest.report(id, 0, StageEventKind.STAGE_EVENT_KIND_FAILED, {
    code: 'source_lost',
    message: 'old',
    details: {},
  });
  n.ingest.report(id, 1, StageEventKind.STAGE_EVENT_KIND_RECONNECTING);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await get(id)).status, 'active');
  n.ingest.report(id, 1, StageEventKind.STAGE_EVENT_KIND_FAILED, {
    code: 'source_lost',
    message: 'gone',
    details: {},
  });
  assert.equal((await status(id, 'failed')).reasonCode, 'source_lost');
  await until('rules stopped', async () => !n.stages.rules.runs.has(id));
});

test('a source that ended shuts the run down', async () => {
  const n = node();
  scheduler('s1');
  const id = await enqueueRun(h.db, f);
  await status(id, 'active');
  n.ingest.runs.delete(id);
  n.ingest.report(id, 1, StageEventKind.STAGE_EVENT_KIND_ENDED);
  const done = await status(id, 'inactive');
  assert.equal(done.reasonCode, 'source_ended');
  assert.deepEqual((await history(id)).slice(3), [
    'init_shutdown/source_ended',
    'in_shutdown_processing/source_ended',
    'inactive/source_ended',
  ]);
  assert.ok(!n.stages.render.runs.has(id));
});

test('a stop requested while the run is starting ends it inactive', async () => {
  const n = node({ ingest: { startDelayMs: 500 } });
  scheduler('s1', { commandTimeoutMs: 3000 });
  const id = await enqueueRun(h.db, f);
  await status(id, 'in_startup_processing');
  await requestStop(id);
  await status(id, 'inactive');
  assert.ok(!n.ingest.runs.has(id), 'ingest still holds the run');
  assert.deepEqual(n.commandsFor(id).slice(-3), ['ingest stop:1', 'rules stop:1', 'render stop:1']);
});

test('a node that dies: its runs restart on another node after the lease', async () => {
  const a = node();
  scheduler('s1');
  const ids = [await enqueueRun(h.db, f), await enqueueRun(h.db, f)];
  for (const id of ids) assert.equal((await status(id, 'active')).nodeId, a.nodeId);
  const b = node();
  const killedAt = Date.now();
  a.kill();
  for (const id of ids) {
    const r = await until('restarted on b', async () => {
      const run = await get(id);
      return run.status === 'active' && run.nodeId === b.nodeId ? run : undefined;
    });
    assert.equal(r.leaseGeneration, 2);
    assert.equal(r.restarts, 1);
    assert.deepEqual((await history(id)).slice(3), [
      'init_startup/restart',
      'in_startup_processing/placed',
      'active/source_connected',
    ]);
  }
  const took = Date.now() - killedAt;
  assert.ok(took < LEASE_MS + 2000, `restart took ${took} ms`);
});

test('a stage that keeps going silent uses up the restarts: failed/restart_limit', async () => {
  const n = node();
  scheduler('s1', { maxRestarts: 1 });
  const id = await enqueueRun(h.db, f);
  await status(id, 'active');
  n.stages.rules.mute();
  const failed = await status(id, 'failed');
  assert.equal(failed.reasonCode, 'restart_limit');
  assert.match(failed.reasonMessage ?? '', /rules silent/);
  assert.equal(failed.restarts, 1);
  assert.deepEqual(
    (await history(id)).map((s) => s.split('/')[0]),
    [
      'init_startup',
      'in_startup_processing',
      'active',
      'init_startup',
      'in_startup_processing',
      'active',
      'failed',
    ],
  );
});

test('a scheduler that dies: another adopts its runs as they are once the lease ran out', async () => {
  const n = node();
  const a = scheduler('s-a');
  const ids = [await enqueueRun(h.db, f), await enqueueRun(h.db, f), await enqueueRun(h.db, f)];
  for (const id of ids) assert.equal((await status(id, 'active')).leaseOwner, 's-a');
  scheduler('s-b');
  await a.stop();
  const stoppedAt = Date.now();
  await until('adopted by s-b', async () => {
    const rows = await h.db.select().from(runs).where(inArray(runs.id, ids));
    return rows.every((r) => r.leaseOwner === 's-b') ? rows : undefined;
  });
  const took = Date.now() - stoppedAt;
  for (const id of ids) {
    const r = await get(id);
    assert.equal(r.status, 'active');
    assert.equal(r.leaseGeneration, 1, 'adopted runs keep their generation');
    assert.equal(r.restarts, 0);
    assert.deepEqual(
      n.ingest.commands.filter((c) => c.includes(id)),
      [`start:${id}:1`],
    );
  }
  // s-b may judge only after watching heartbeats for a lease; then the lease must have run out.
  assert.ok(took < 2 * LEASE_MS + 1000, `adoption took ${took} ms`);
});

/** A stand-in inference service: records every LoadModel; `answer` decides each outcome. */
class FakeLoader implements ModelLoader {
  readonly specs: ModelSpec[] = [];
  constructor(private readonly answer: (spec: ModelSpec, n: number) => Error | undefined) {}
  loadModel(spec: ModelSpec): Promise<ModelInfo> {
    this.specs.push(spec);
    const err = this.answer(spec, this.specs.length);
    if (err) return Promise.reject(err);
    return Promise.resolve({
      spec,
      state: ModelState.MODEL_STATE_READY,
      executionProvider: 'cpu',
      inputName: 'images',
      inputShape: [],
      outputName: 'output',
      outputShape: [],
      error: undefined,
    });
  }
}

test("the run's model is loaded before any stage starts; a model that cannot load fails the run", async () => {
  const n = node();
  let startedBeforeLoad = -1;
  let current = '';
  const loader = new FakeLoader((spec) => {
    startedBeforeLoad = n.commandsFor(current).length;
    return spec.path.endsWith('.txt')
      ? new ModelError(`cannot load model ${spec.id}: ${spec.path}: not an ONNX model`, spec.id)
      : undefined;
  });
  scheduler('s1', {}, loader);
  current = await enqueueRun(h.db, f);
  await status(current, 'active');
  assert.equal(startedBeforeLoad, 0, 'a stage was started before the model was loaded');
  assert.equal(loader.specs[0]?.id, f.modelId);
  assert.equal(loader.specs[0]?.path, '/models/test.onnx');

  const broken = await createFixture(h.db, { sampleFps: 1 });
  await h.db
    .update(models)
    .set({ filePath: '/models/notes.txt' })
    .where(eq(models.id, broken.modelId));
  current = await enqueueRun(h.db, broken);
  const failed = await status(current, 'failed');
  assert.equal(failed.reasonCode, 'model_error');
  assert.match(failed.reasonMessage ?? '', /^inference: .*notes\.txt: not an ONNX model/);
  assert.equal(failed.attempts, 1);
  assert.deepEqual(n.commandsFor(current), [], 'no stage was asked to start');
  assert.deepEqual(await history(current), [
    'init_startup/created',
    'in_startup_processing/placed',
    'failed/model_error',
  ]);
});

test('inference down is a failed placement, tried again until the model loads', async () => {
  const n = node();
  const loader = new FakeLoader((_spec, call) =>
    call <= 2
      ? new UnavailableError('inference service unavailable: connection refused')
      : undefined,
  );
  scheduler('s1', { maxStartAttempts: 5 }, loader);
  const id = await enqueueRun(h.db, f);
  const active = await status(id, 'active');
  assert.equal(active.nodeId, n.nodeId);
  assert.equal(active.attempts, 3);
  assert.equal(loader.specs.length, 3);
  assert.deepEqual(await history(id), [
    'init_startup/created',
    'in_startup_processing/placed',
    'init_startup/start_failed',
    'in_startup_processing/placed',
    'init_startup/start_failed',
    'in_startup_processing/placed',
    'active/source_connected',
  ]);
  const [retry] = await h.db
    .select()
    .from(runTransitions)
    .where(eq(runTransitions.runId, id))
    .orderBy(asc(runTransitions.id))
    .offset(2)
    .limit(1);
  assert.match(retry?.message ?? '', /^inference on node .*connection refused \(unavailable\)$/);
  assert.deepEqual(n.commandsFor(id), ['render start:3', 'rules start:3', 'ingest start:3']);
});
