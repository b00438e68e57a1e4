import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RunState, RunStatusChange } from '@sie/contracts';
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
  type DbHandle,
} from '@sie/db';
import { freshDatabase, type TestDatabase } from '@sie/infra';
import { asc, eq } from 'drizzle-orm';
import { IllegalTransitionError, StaleRunError, recordRunCreated, transitionRun } from './index.js';

let database: TestDatabase;
let handle: DbHandle;

before(async () => {
  database = await freshDatabase();
  await migrate(database.url);
  handle = createDb(database.url);
  await handle.db.insert(tenants).values({ id: 't1', name: 'Tenant 1' });
  await handle.db.insert(models).values({
    id: 'm1',
    tenantId: 't1',
    name: 'yolox',
    task: 'detect',
    decoder: { type: 'yolox' },
    inputWidth: 416,
    inputHeight: 416,
    classNames: [],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash: 'a'.repeat(64),
    filePath: '/models/a.onnx',
    sizeBytes: 1,
  });
  await handle.db
    .insert(pipelines)
    .values({ id: 'p1', tenantId: 't1', name: 'p', modelId: 'm1', config: {} });
});

after(async () => {
  await handle?.close();
  await database?.drop();
});

async function newRun(): Promise<string> {
  const id = newId('run');
  await handle.db.transaction(async (tx) => {
    await tx.insert(runs).values({
      id,
      tenantId: 't1',
      pipelineId: 'p1',
      pipelineVersion: 1,
      source: { url: '/v.avi' },
    });
    await recordRunCreated(tx, { runId: id, tenantId: 't1', actor: 'test' });
  });
  return id;
}

test('a transition updates the run, records history and writes its outbox message together', async () => {
  const id = await newRun();
  await handle.db.transaction((tx) =>
    transitionRun(tx, {
      runId: id,
      tenantId: 't1',
      from: 'init_startup',
      to: 'in_startup_processing',
      generation: 0,
      actor: 'test',
      set: { leaseGeneration: 1, nodeId: 'n1' },
    }),
  );
  await transitionRun(handle.db, {
    runId: id,
    tenantId: 't1',
    from: 'in_startup_processing',
    to: 'failed',
    generation: 1,
    reason: 'source_unreachable',
    message: 'connection refused',
    actor: 'test',
  });
  const [run] = await handle.db.select().from(runs).where(eq(runs.id, id));
  assert.equal(run?.status, 'failed');
  assert.equal(run?.reasonCode, 'source_unreachable');
  assert.ok(run?.endedAt);
  const history = await handle.db
    .select()
    .from(runTransitions)
    .where(eq(runTransitions.runId, id))
    .orderBy(asc(runTransitions.id));
  assert.deepEqual(
    history.map((h) => [h.fromStatus, h.toStatus]),
    [
      [null, 'init_startup'],
      ['init_startup', 'in_startup_processing'],
      ['in_startup_processing', 'failed'],
    ],
  );
  const messages = await handle.db.select().from(outbox).orderBy(asc(outbox.id));
  const mine = messages
    .filter((m) => m.subject === `sie.status.t1.${id}`)
    .map((m) => RunStatusChange.decode(m.payload));
  assert.deepEqual(
    mine.map((c) => c.to),
    [
      RunState.RUN_STATE_INIT_STARTUP,
      RunState.RUN_STATE_IN_STARTUP_PROCESSING,
      RunState.RUN_STATE_FAILED,
    ],
  );
  assert.equal(mine[2]?.reason, 'source_unreachable');
  assert.equal(new Set(mine.map((c) => c.id)).size, 3);
});

test('moves the machine does not allow, and stale views, write nothing', async () => {
  const id = await newRun();
  await assert.rejects(
    transitionRun(handle.db, {
      runId: id,
      tenantId: 't1',
      from: 'init_startup',
      to: 'active',
      generation: 0,
      actor: 'test',
    }),
    IllegalTransitionError,
  );
  await assert.rejects(
    transitionRun(handle.db, {
      runId: id,
      tenantId: 't1',
      from: 'init_startup',
      to: 'in_startup_processing',
      generation: 7,
      actor: 'test',
    }),
    StaleRunError,
  );
  // A failed write inside a transaction leaves no history and no outbox row behind.
  await assert.rejects(
    handle.db.transaction(async (tx) => {
      await transitionRun(tx, {
        runId: id,
        tenantId: 't1',
        from: 'init_startup',
        to: 'init_shutdown',
        generation: 0,
        actor: 'test',
      });
      await transitionRun(tx, {
        runId: id,
        tenantId: 't1',
        from: 'init_startup',
        to: 'failed',
        generation: 0,
        actor: 'test',
      });
    }),
    StaleRunError,
  );
  const history = await handle.db.select().from(runTransitions).where(eq(runTransitions.runId, id));
  assert.equal(history.length, 1);
  const [run] = await handle.db.select().from(runs).where(eq(runs.id, id));
  assert.equal(run?.status, 'init_startup');
});
