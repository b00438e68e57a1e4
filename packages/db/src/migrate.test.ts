import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { freshDatabase, type TestDatabase } from '@sie/infra';
import { MIGRATIONS_FOLDER, migrate } from './index.js';

let database: TestDatabase | undefined;
before(async () => {
  database = await freshDatabase();
});
after(async () => {
  // Optional chaining: when setup failed, there is nothing to drop.
  await database?.drop();
});

function url(): string {
  assert.ok(database, 'setup failed');
  return database.url;
}

const journalEntries = (): number =>
  (
    JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
      entries: unknown[];
    }
  ).entries.length;

test('three processes migrating at once all succeed and apply each migration once', async () => {
  const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: url(), max: 1 }));
  try {
    const results = await Promise.all(pools.map((p) => migrate(p)));
    const total = results.reduce((n, r) => n + r.applied, 0);
    assert.equal(total, journalEntries());
    const rows = await pools[0]!.query<{ n: string }>(
      'select count(*) as n from drizzle.__drizzle_migrations',
    );
    assert.equal(Number(rows.rows[0]?.n), journalEntries());
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
});

test('migrating a current schema is a no-op', async () => {
  const lines: string[] = [];
  assert.deepEqual(await migrate(url(), (l) => lines.push(l)), { applied: 0 });
  assert.deepEqual(await migrate(url()), { applied: 0 });
  assert.deepEqual(lines, ['db: schema is current']);
  const c = new pg.Client({ connectionString: url() });
  await c.connect();
  try {
    const t = await c.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    assert.deepEqual(
      t.rows.map((r) => r.table_name),
      ['models', 'nodes', 'outbox', 'pipelines', 'run_transitions', 'runs', 'tenants'],
    );
  } finally {
    await c.end();
  }
});
