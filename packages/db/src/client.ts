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
  /** Called for every database error (for the `sie_db_errors_total` counter). */
  onError?: (kind: DbErrorKind) => void;
}

/** `connect`: no connection could be made; `query`: a statement failed; `idle`: a pooled connection died. */
export type DbErrorKind = 'connect' | 'query' | 'idle';

/** A drizzle instance (with the schema, for relational queries) over a new pg pool. */
export function createDb(url: string, opts: CreateDbOptions = {}): DbHandle {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle connection that dies emits 'error' on the pool; unhandled, that would crash the
  // process. The pool drops the connection itself and the next query opens a new one.
  pool.on('error', (err) => {
    opts.onError?.('idle');
    opts.log?.(`db: idle connection error: ${err.message}`);
  });
  if (opts.onError) countErrors(pool, opts.onError);
  const db = drizzle({ client: pool, schema });
  let closed: Promise<void> | undefined;
  return {
    db,
    pool,
    close: () => (closed ??= pool.end()),
  };
}

/**
 * Counts failed connects and statements without changing what callers see: the counting branch
 * handles its own copy of each rejection, the caller still gets the original.
 */
function countErrors(pool: pg.Pool, onError: (kind: DbErrorKind) => void): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]): unknown => {
      // pg-pool's own pool.query calls the client with a callback, drizzle's transactions with none.
      const last = args.at(-1);
      if (typeof last === 'function') {
        const callback = last as (err: unknown, ...rest: unknown[]) => unknown;
        args[args.length - 1] = (err: unknown, ...rest: unknown[]): unknown => {
          if (err) onError('query');
          return callback(err, ...rest);
        };
      }
      const result = query(...args);
      if (result instanceof Promise) result.catch(() => onError('query'));
      return result;
    };
  });
  const connect = pool.connect.bind(pool) as (cb?: ConnectCallback) => Promise<unknown> | undefined;
  (pool as { connect: unknown }).connect = (cb?: ConnectCallback): Promise<unknown> | undefined => {
    if (typeof cb === 'function') {
      return connect((err, client, done) => {
        if (err) onError('connect');
        cb(err, client, done);
      });
    }
    const result = connect();
    result?.catch(() => onError('connect'));
    return result;
  };
}

type ConnectCallback = (err: Error | undefined, client: unknown, done: unknown) => void;
