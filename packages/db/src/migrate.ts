import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { MigrationError } from './errors.js';

/** The SQL drizzle-kit generated, shipped beside dist/ (this file is dist/migrate.js). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));

// Every process runs migrate() at startup. drizzle's migrator is not safe to run twice at once (its
// CREATE SCHEMA/TABLE IF NOT EXISTS race, and both would apply the same migration), so one
// session-level advisory lock serialises them; the others wait, then find nothing to do.
// The key is arbitrary; what matters is that every sie process uses the same one.
const LOCK_KEY = '3345445991227683941';

export interface MigrateResult {
  /** Migrations applied by this call (0 when the schema was already current). */
  applied: number;
}

async function appliedCount(client: pg.ClientBase): Promise<number> {
  // Two statements: a query naming the table fails at parse time while it does not exist yet.
  const exists = await client.query<{ t: string | null }>(
    "select to_regclass('drizzle.__drizzle_migrations')::text as t",
  );
  if (!exists.rows[0]?.t) return 0;
  const res = await client.query<{ n: string }>(
    'select count(*)::text as n from drizzle.__drizzle_migrations',
  );
  return Number(res.rows[0]?.n ?? 0);
}

/**
 * Brings the database to the current schema. Safe to call from several processes at once and
 * again on a current schema (a no-op). Uses one connection, so a pool with max 1 is enough.
 */
export async function migrate(
  target: string | pg.Pool,
  log?: (line: string) => void,
): Promise<MigrateResult> {
  const own = typeof target === 'string' ? new pg.Client({ connectionString: target }) : undefined;
  const client: pg.Client | pg.PoolClient = own ?? (await (target as pg.Pool).connect());
  let broken: unknown;
  try {
    if (own) await own.connect();
    await client.query('select pg_advisory_lock($1::bigint)', [LOCK_KEY]);
    try {
      const before = await appliedCount(client);
      await drizzleMigrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
      const applied = (await appliedCount(client)) - before;
      log?.(applied ? `db: applied ${applied} migration(s)` : 'db: schema is current');
      return { applied };
    } finally {
      await client.query('select pg_advisory_unlock($1::bigint)', [LOCK_KEY]);
    }
  } catch (err) {
    broken = err;
    throw new MigrationError(
      `database migration failed: ${(err as Error).message}`,
      MIGRATIONS_FOLDER,
      {
        cause: err,
      },
    );
  } finally {
    if (own) await own.end().catch(() => undefined);
    // A connection that failed mid-migration may still hold the lock or an open transaction.
    else (client as pg.PoolClient).release(broken !== undefined);
  }
}
