import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { asc, eq, sql } from 'drizzle-orm';
import { freshDatabase, type TestDatabase } from '@sie/infra';
import {
  createDb,
  migrate,
  models,
  newId,
  outbox,
  pipelines,
  runTransitions,
  runs,
  tenants,
  type Db,
  type DbHandle,
  type NewModel,
} from './index.js';

let database: TestDatabase | undefined;
let h: DbHandle | undefined;
before(async () => {
  database = await freshDatabase();
  await migrate(database.url);
  h = createDb(database.url, { max: 2 });
});
after(async () => {
  // Optional chaining: when setup failed half-way, still stop the server so the file can exit.
  await h?.close();
  await database?.drop();
});

function db(): Db {
  assert.ok(h, 'setup failed');
  return h.db;
}

/** The SQLSTATE of a rejected statement (drizzle wraps the driver's error as `cause`). */
function sqlState(e: unknown): string | undefined {
  const err = e as { code?: string; cause?: { code?: string } };
  return err.cause?.code ?? err.code;
}

function model(tenantId: string, contentHash: string): NewModel {
  return {
    id: newId('mdl'),
    tenantId,
    name: 'yolox-nano',
    task: 'detect',
    decoder: { type: 'yolox', decodedInGraph: true, nmsIou: 0.45 },
    inputWidth: 416,
    inputHeight: 416,
    classNames: ['person', 'bicycle'],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash,
    filePath: `/models/${contentHash}.onnx`,
    sizeBytes: 3_700_000,
  };
}

async function tenant(): Promise<string> {
  const id = newId('ten');
  await db().insert(tenants).values({ id, name: 'acme' });
  return id;
}

test('a tenant, model, pipeline, run and transition round-trip with their defaults', async () => {
  const tenantId = await tenant();
  const [m] = await db()
    .insert(models)
    .values(model(tenantId, 'a'.repeat(64)))
    .returning();
  assert.ok(m);
  assert.deepEqual(m.classNames, ['person', 'bicycle']);
  assert.equal(m.deletedAt, null);

  const [p] = await db()
    .insert(pipelines)
    .values({
      id: newId('pl'),
      tenantId,
      name: 'entrance',
      modelId: m.id,
      config: {
        scoreThreshold: 0.3,
        classes: ['person'],
        sampleFps: 5,
        retry: { backoff: 'fixed' },
      },
    })
    .returning();
  assert.ok(p);
  assert.equal(p.version, 1);

  const runId = newId('run');
  await db()
    .insert(runs)
    .values({
      id: runId,
      tenantId,
      pipelineId: p.id,
      pipelineVersion: p.version,
      source: { url: 'rtsp://cam/1', rtspTransport: 'tcp' },
    });
  const [r] = await db().select().from(runs).where(eq(runs.id, runId));
  assert.ok(r);
  assert.equal(r.status, 'init_startup');
  assert.equal(r.desiredState, 'running');
  assert.equal(r.leaseGeneration, 0);
  assert.equal(r.attempts, 0);
  assert.deepEqual(r.output, {});
  assert.ok(r.createdAt instanceof Date);

  await db().transaction(async (tx) => {
    const [claimed] = await tx
      .update(runs)
      .set({
        status: 'in_startup_processing',
        leaseOwner: 'sched-1',
        leaseGeneration: sql`${runs.leaseGeneration} + 1`,
        leaseExpiresAt: new Date(Date.now() + 10_000),
      })
      .where(eq(runs.id, runId))
      .returning();
    assert.equal(claimed?.leaseGeneration, 1);
    await tx.insert(runTransitions).values({
      runId,
      fromStatus: 'init_startup',
      toStatus: 'in_startup_processing',
      generation: claimed.leaseGeneration,
      actor: 'scheduler:sched-1',
    });
  });
  const history = await db()
    .select()
    .from(runTransitions)
    .where(eq(runTransitions.runId, runId))
    .orderBy(asc(runTransitions.id));
  assert.equal(history.length, 1);
  assert.equal(history[0]?.toStatus, 'in_startup_processing');
  assert.equal(typeof history[0]?.id, 'number');

  const withRuns = await db().query.runs.findFirst({ where: eq(runs.id, runId) });
  assert.equal(withRuns?.leaseOwner, 'sched-1');
});

test('the status check constraint rejects a status outside the vocabulary', async () => {
  const tenantId = await tenant();
  const [m] = await db()
    .insert(models)
    .values(model(tenantId, 'b'.repeat(64)))
    .returning();
  const [p] = await db()
    .insert(pipelines)
    .values({ id: newId('pl'), tenantId, name: 'x', modelId: m!.id, config: {} })
    .returning();
  const runId = newId('run');
  await db()
    .insert(runs)
    .values({
      id: runId,
      tenantId,
      pipelineId: p!.id,
      pipelineVersion: 1,
      source: { url: '/v.mp4' },
    });
  await assert.rejects(
    db().execute(sql`update runs set status = 'running' where id = ${runId}`),
    (e: unknown) => sqlState(e) === '23514',
  );
  await assert.rejects(
    db().execute(sql`update runs set desired_state = 'paused' where id = ${runId}`),
    (e: unknown) => sqlState(e) === '23514',
  );
});

test('the outbox dedup_id is unique and unpublished rows are found', async () => {
  const msg = {
    subject: 'sie.status.t.r',
    payload: new Uint8Array([1, 2, 3]),
    headers: { traceparent: '00-abc-def-01' },
    dedupId: newId('st'),
  };
  const [row] = await db().insert(outbox).values(msg).returning();
  assert.ok(Buffer.from(row!.payload).equals(Buffer.from([1, 2, 3])));
  await assert.rejects(db().insert(outbox).values(msg), (e: unknown) => sqlState(e) === '23505');
  const skipped = await db().insert(outbox).values(msg).onConflictDoNothing().returning();
  assert.equal(skipped.length, 0);
  const pending = await db()
    .select({ id: outbox.id })
    .from(outbox)
    .where(sql`${outbox.publishedAt} is null`);
  assert.deepEqual(pending, [{ id: row!.id }]);
});

test('a model file is unique per tenant until the model is deleted', async () => {
  const [t1, t2] = [await tenant(), await tenant()];
  const hash = 'c'.repeat(64);
  const [first] = await db().insert(models).values(model(t1, hash)).returning();
  await assert.rejects(
    db().insert(models).values(model(t1, hash)),
    (e: unknown) => sqlState(e) === '23505',
  );
  await db().insert(models).values(model(t2, hash)); // another tenant may upload the same file
  await db().update(models).set({ deletedAt: new Date() }).where(eq(models.id, first!.id));
  await db().insert(models).values(model(t1, hash)); // and so may t1 once its copy is deleted
});
