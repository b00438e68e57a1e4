import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { findFreePort, startPostgres } from './index.js';

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

test('postgres initialises, serves, stops, and restarts on the same data dir', async () => {
  // mkdtemp makes a 0700 dir; as root, startPostgres opens it (o+x) for the postgres user.
  const root = mkdtempSync(join(tmpdir(), 'sie-pg-'));
  const dataDir = join(root, 'data');
  const port = await findFreePort();

  const first = await startPostgres({ dataDir, port, database: 'sie_infra_test' });
  try {
    assert.equal(first.url, `postgres://postgres:postgres@127.0.0.1:${port}/sie_infra_test`);
    assert.deepEqual(await query(first.url, 'select 1 as one'), [{ one: 1 }]);
    await query(first.url, 'create table kept (v int); insert into kept values (42)');
  } finally {
    await first.stop();
  }
  await first.stop(); // idempotent

  // A pid file naming a live process that is not Postgres (pid 1) is what a killed server leaves
  // behind in a restarted container; Postgres itself would refuse to start over it.
  writeFileSync(join(dataDir, 'postmaster.pid'), `1\n${dataDir}\n0\n${port}\n`);
  const lines: string[] = [];
  const second = await startPostgres({
    dataDir,
    port,
    database: 'sie_infra_test',
    log: (l) => lines.push(l),
  });
  try {
    assert.ok(lines.some((l) => l.includes('stale postmaster.pid')));
    assert.ok(!lines.some((l) => l.includes('initialising')), 'no second initdb');
    assert.deepEqual(await query(second.url, 'select v from kept'), [{ v: 42 }]);
    assert.equal(
      readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
      String(second.pid),
    );

    // Calling start again while it runs adopts the running server instead of failing.
    const again = await startPostgres({ dataDir, port, database: 'sie_other' });
    assert.equal(again.pid, second.pid);
    assert.deepEqual(await query(again.url, 'select current_database() as db'), [
      { db: 'sie_other' },
    ]);
  } finally {
    await second.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
