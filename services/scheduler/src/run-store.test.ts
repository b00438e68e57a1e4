import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDb, migrate, runTransitions, runs, type DbHandle } from '@sie/db';
import { freshDatabase, type TestDatabase } from '@sie/infra';
import { StaleRunError } from '@sie/lifecycle';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { RunStore, viewOf } from './run-store.js';
import { createFixture, enqueueRun, type Fixture } from './testing/fixtures.js';

let database: TestDatabase;
let h: DbHandle;
let f: Fixture;

before(async () => {
  database = await freshDatabase();
  await migrate(database.url);
  h = createDb(database.url, { max: 6 });
  f = await createFixture(h.db);
});

after(async () => {
  await h?.close();
  await database?.drop();
});

async function clearRuns(): Promise<void> {
  await h.db.delete(runs);
}

async function row(id: string) {
  const [r] = await h.db.select().from(runs).where(eq(runs.id, id));
  assert.ok(r, `run ${id}`);
  return r;
}

/** Seconds until the lease runs out, on the database clock. */
async function leaseLeft(id: string): Promise<number> {
  const res = await h.db.execute<{ s: number }>(
    sql`select extract(epoch from (lease_expires_at - now()))::float8 as s from runs where id = ${id}`,
  );
  return Number(res.rows[0]?.s);
}

test('schedulers claiming at once never get the same run, and each claim takes a lease', async () => {
  await clearRuns();
  const ids = new Set<string>();
  for (let i = 0; i < 30; i++) ids.add(await enqueueRun(h.db, f));
  const stores = ['a', 'b', 'c'].map((me) => new RunStore(h.db, me, 10_000));
  const claims = await Promise.all(stores.map((s) => s.claim('startup', 20)));
  const all = claims.flat();
  assert.equal(new Set(all.map((r) => r.id)).size, all.length, 'a run claimed twice');
  // SKIP LOCKED: whoever was blocked took other rows; a second round gets the rest.
  const rest = await Promise.all(
    stores.map((s, i) =>
      s.claim(
        'startup',
        20,
        claims[i]!.map((r) => r.id),
      ),
    ),
  );
  const total = [...all, ...rest.flat()];
  assert.equal(total.length, 30);
  assert.deepEqual(new Set(total.map((r) => r.id)), ids);
  for (const [i, batch] of claims.entries()) {
    for (const r of batch) assert.equal(r.leaseOwner, ['a', 'b', 'c'][i]);
  }
  const left = await leaseLeft(total[0]!.id);
  assert.ok(left > 9 && left <= 10, `lease ${left}s`);
  // Leased runs are nobody else's work, and the holder's own busy runs are skipped.
  const owned = (me: string) => total.filter((r) => r.leaseOwner === me).map((r) => r.id);
  assert.deepEqual(
    (await stores[0]!.claim('startup', 30)).map((r) => r.id).sort(),
    owned('a').sort(),
  );
  assert.equal((await stores[1]!.claim('startup', 30, owned('b'))).length, 0);
});

test('claim kinds: stops, expired leases and startups each find their runs', async () => {
  await clearRuns();
  const store = new RunStore(h.db, 'me', 10_000);
  const other = new RunStore(h.db, 'other', 10_000);
  const waiting = await enqueueRun(h.db, f);
  const stopping = await enqueueRun(h.db, f);
  const ended = await enqueueRun(h.db, f);
  const expired = await enqueueRun(h.db, f);
  const alive = await enqueueRun(h.db, f);
  const stopOfOthers = await enqueueRun(h.db, f);
  await h.db.update(runs).set({ desiredState: 'stopped' }).where(eq(runs.id, stopping));
  await h.db.update(runs).set({ status: 'init_shutdown' }).where(eq(runs.id, ended));
  await h.db
    .update(runs)
    .set({ status: 'active', leaseOwner: 'dead', leaseExpiresAt: sql`now() - interval '1 second'` })
    .where(eq(runs.id, expired));
  await h.db
    .update(runs)
    .set({
      status: 'active',
      leaseOwner: 'other',
      leaseExpiresAt: sql`now() + interval '1 minute'`,
    })
    .where(inArray(runs.id, [alive, stopOfOthers]));
  await h.db.update(runs).set({ desiredState: 'stopped' }).where(eq(runs.id, stopOfOthers));

  const ids = async (kind: 'shutdown' | 'expired' | 'startup', s = store) =>
    (await s.claim(kind, 10)).map((r) => r.id).sort();
  assert.deepEqual(await ids('shutdown'), [stopping, ended].sort());
  assert.deepEqual(await ids('expired'), [expired]);
  assert.deepEqual(await ids('startup'), [waiting]);
  // A stop of a run another scheduler holds waits for that scheduler (it may be starting it).
  assert.deepEqual(await ids('shutdown', other), [stopOfOthers]);
  assert.equal((await row(alive)).leaseOwner, 'other');
});

test('writes are compare-and-set on status, generation and owner', async () => {
  await clearRuns();
  const a = new RunStore(h.db, 'a', 10_000);
  const b = new RunStore(h.db, 'b', 10_000);
  const id = await enqueueRun(h.db, f);
  const [claimed] = await a.claim('startup', 1);
  assert.ok(claimed);
  const view = viewOf(claimed);
  // b does not hold the lease: its write is refused and leaves nothing behind.
  await assert.rejects(
    b.transition(view, 'in_startup_processing', { set: { leaseGeneration: 1 } }),
    StaleRunError,
  );
  await a.transition(view, 'in_startup_processing', {
    reason: 'placed',
    set: { leaseGeneration: 1, nodeId: 'n1', attempts: 1 },
  });
  const r = await row(id);
  assert.equal(r.status, 'in_startup_processing');
  assert.equal(r.leaseGeneration, 1);
  assert.equal(r.nodeId, 'n1');
  // a's old view (generation 0) is stale now.
  await assert.rejects(a.transition(view, 'failed', { reason: 'internal_error' }), StaleRunError);
  // A report may move a run whoever holds it ('any'), but only at the run's generation.
  const current = { ...view, status: 'in_startup_processing' as const, generation: 1 };
  await b.transition(current, 'active', { lease: 'any', reason: 'source_connected' });
  assert.equal((await row(id)).leaseOwner, 'a');
  // 'take' moves the lease to the writer.
  await b.transition({ ...current, status: 'active' }, 'init_shutdown', {
    lease: 'take',
    reason: 'source_ended',
  });
  assert.equal((await row(id)).leaseOwner, 'b');
  const history = await h.db
    .select()
    .from(runTransitions)
    .where(eq(runTransitions.runId, id))
    .orderBy(asc(runTransitions.id));
  assert.deepEqual(
    history.map((t) => [t.toStatus, t.reasonCode, t.actor]),
    [
      ['init_startup', 'created', 'test'],
      ['in_startup_processing', 'placed', 'scheduler:a'],
      ['active', 'source_connected', 'scheduler:b'],
      ['init_shutdown', 'source_ended', 'scheduler:b'],
    ],
  );
});

test('renewal extends only leases still owned at the generation, and never shortens them', async () => {
  await clearRuns();
  const a = new RunStore(h.db, 'a', 2000);
  const mine = await enqueueRun(h.db, f);
  const moved = await enqueueRun(h.db, f);
  const lost = await enqueueRun(h.db, f);
  await h.db
    .update(runs)
    .set({ status: 'active', leaseOwner: 'a', leaseGeneration: 3, leaseExpiresAt: sql`now()` })
    .where(inArray(runs.id, [mine, moved, lost]));
  await h.db.update(runs).set({ leaseGeneration: 4 }).where(eq(runs.id, moved));
  await h.db.update(runs).set({ leaseOwner: 'b' }).where(eq(runs.id, lost));
  const renewed = await a.renew([
    { id: mine, generation: 3, forMs: 5000 },
    { id: moved, generation: 3, forMs: 5000 },
    { id: lost, generation: 3, forMs: 5000 },
  ]);
  assert.deepEqual([...renewed], [mine]);
  const left = await leaseLeft(mine);
  assert.ok(left > 4.5 && left <= 5, `lease ${left}s`);
  await a.renew([{ id: mine, generation: 3, forMs: 1000 }]);
  assert.ok((await leaseLeft(mine)) > 4, 'a renewal shortened the lease');
  assert.ok((await leaseLeft(moved)) <= 0);
});

test('release and waiting messages leave runs for any scheduler', async () => {
  await clearRuns();
  const a = new RunStore(h.db, 'a', 10_000);
  const first = await enqueueRun(h.db, f);
  const second = await enqueueRun(h.db, f);
  const [claimed] = await a.claim('startup', 1);
  assert.equal(claimed?.id, first);
  // Only the unclaimed run gets the waiting message.
  assert.equal(await a.markWaiting('waiting for a node with capacity', 10), 1);
  assert.equal((await row(second)).reasonMessage, 'waiting for a node with capacity');
  assert.equal(await a.markWaiting('waiting for a node with capacity', 10), 0, 'rewritten');
  assert.ok(await a.release(viewOf(claimed), 'waiting for a node with capacity'));
  const r = await row(first);
  assert.equal(r.leaseOwner, null);
  assert.equal(r.status, 'init_startup');
  assert.equal(r.reasonMessage, 'waiting for a node with capacity');
  assert.equal((await new RunStore(h.db, 'b', 10_000).claim('startup', 5)).length, 2);
});
