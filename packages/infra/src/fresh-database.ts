// A fresh, empty database per test file (for the tests of every package that uses Postgres).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { findFreePort } from './net.js';
import { startPostgres as startPg } from './postgres.js';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * With DATABASE_URL (the test runner's shared server) a new database `sie_test_<random>` on that
 * server, dropped afterwards; otherwise a private Postgres in a temp dir, stopped afterwards.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const shared = process.env['DATABASE_URL'];
  if (shared) {
    const name = `sie_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: shared });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(shared);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: shared });
        await c.connect();
        try {
          await c.query(`drop database if exists ${name} with (force)`);
        } finally {
          await c.end();
        }
      },
    };
  }
  const root = mkdtempSync(join(tmpdir(), 'sie-db-test-'));
  const server = await startPg({
    dataDir: join(root, 'pg'),
    port: await findFreePort(),
    database: 'sie_test',
  });
  return {
    url: server.url,
    async drop() {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
