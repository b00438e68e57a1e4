import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface DbHandle {
  db: Db;
  pool: pg.Pool;
  /** Ends the pool; waits for checked-out clients to be released. */
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Receives errors of idle pooled connections (e.g. the server restarted). */
  log?: (line: string) => void;
}

/** A drizzle instance (with the schema, for relational queries) over a new pg pool. */
export function createDb(url: string, opts: CreateDbOptions = {}): DbHandle {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle connection that dies emits 'error' on the pool; unhandled, that would crash the
  // process. The pool drops the connection itself and the next query opens a new one.
  pool.on('error', (err) => opts.log?.(`db: idle connection error: ${err.message}`));
  const db = drizzle({ client: pool, schema });
  let closed: Promise<void> | undefined;
  return {
    db,
    pool,
    close: () => (closed ??= pool.end()),
  };
}
