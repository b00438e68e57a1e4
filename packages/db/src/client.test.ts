import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { findFreePort, freshDatabase, type TestDatabase } from '@sie/infra';
import { createDb, type DbErrorKind } from './index.js';

let database: TestDatabase | undefined;
before(async () => {
  database = await freshDatabase();
});
after(async () => {
  await database?.drop();
});

test('failed statements and failed connects are counted; callers still get the error', async () => {
  const kinds: DbErrorKind[] = [];
  const handle = createDb(database!.url, { onError: (k) => kinds.push(k), max: 2 });
  try {
    const ok = await handle.db.execute(sql`select 1 as one`);
    assert.equal(ok.rows[0]?.one, 1);
    assert.equal(kinds.length, 0);
    await assert.rejects(handle.db.execute(sql`select * from no_such_table`), /no_such_table/);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(kinds, ['query']);
    // Inside a transaction too (a pooled client checked out by drizzle).
    await assert.rejects(
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`select 1/0`);
      }),
      /select 1\/0/,
    );
    await new Promise((r) => setImmediate(r));
    assert.ok(kinds.filter((k) => k === 'query').length >= 2, kinds.join());
  } finally {
    await handle.close();
  }

  const down = createDb(`postgres://nobody@127.0.0.1:${await findFreePort()}/none`, {
    onError: (k) => kinds.push(k),
  });
  try {
    await assert.rejects(down.db.execute(sql`select 1`));
    assert.ok(kinds.includes('connect'), kinds.join());
  } finally {
    await down.close();
  }
});
