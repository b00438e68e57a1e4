import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '@sie/bus';
import { createDb, migrate, type Db, type DbHandle } from '@sie/db';
import { findFreePort, freshDatabase, type TestDatabase } from '@sie/infra';
import { InferenceGateway } from '@sie/models';
import { createLogger, createMetricsRegistry } from '@sie/telemetry';
import { sql } from 'drizzle-orm';
import { startApiServer, type ApiServer } from '../app.js';
import { apiConfigSchema, modelStoreDir, type ApiConfig } from '../config.js';

export interface TestApi {
  url: string;
  server: ApiServer;
  config: ApiConfig;
  db: Db;
  bus: Bus;
  storeDir: string;
  /** A second server on the same database and bus, with other config (limits, inference url). */
  variant(overrides: Record<string, unknown>): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** The test runner's NATS (tests never run without real servers). */
export function natsUrl(): string {
  const url = process.env.NATS_URL;
  if (!url) throw new Error('NATS_URL is not set: run the tests with `pnpm test`');
  return url;
}

/** An inference address nothing listens on. */
export async function deadInferenceUrl(): Promise<string> {
  return `127.0.0.1:${await findFreePort()}`;
}

/**
 * The API in this process on a free port, over a fresh migrated database, the runner's NATS and
 * a temp data dir; `overrides` are config keys as in a config file.
 */
export async function startTestApi(overrides: Record<string, unknown> = {}): Promise<TestApi> {
  const database: TestDatabase = await freshDatabase();
  await migrate(database.url);
  const handle: DbHandle = createDb(database.url, { max: 5 });
  const dataDir = mkdtempSync(join(tmpdir(), 'sie-api-test-'));
  const logger = createLogger({ service: 'api-test', level: 'silent' });
  const bus = await Bus.connect({ servers: natsUrl(), name: 'api-test', logger });
  const closers: (() => Promise<void>)[] = [];
  const start = async (extra: Record<string, unknown>) => {
    const config = apiConfigSchema.parse({
      databaseUrl: database.url,
      nats: { url: natsUrl() },
      dataDir,
      logLevel: 'silent',
      http: { port: 0 },
      inference: { url: await deadInferenceUrl() },
      ...overrides,
      ...extra,
    });
    const inference = new InferenceGateway({
      url: config.inference.url,
      detectTimeoutMs: config.inference.timeoutMs,
      loadTimeoutMs: config.inference.loadTimeoutMs,
      maxMessageBytes: 32 << 20,
    });
    const server = await startApiServer({
      config,
      db: handle.db,
      bus,
      inference,
      logger,
      registry: createMetricsRegistry('api'),
      health: () => ({
        checks: { postgres: 'ok', nats: bus.status === 'connected' ? 'ok' : bus.status },
      }),
    });
    const close = async (): Promise<void> => {
      await server.close();
      inference.close();
    };
    closers.push(close);
    return { config, server, close };
  };
  const main = await start({});
  return {
    url: main.server.url,
    server: main.server,
    config: main.config,
    db: handle.db,
    bus,
    storeDir: modelStoreDir(main.config),
    variant: async (extra) => {
      const v = await start(extra);
      return { url: v.server.url, close: v.close };
    },
    close: async () => {
      for (const close of closers.reverse()) await close();
      await bus.close();
      await handle.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const TABLES = ['tenants', 'models', 'pipelines', 'runs', 'run_transitions', 'outbox'] as const;
export type RowCounts = Record<(typeof TABLES)[number], number>;

/** Rows per table, to prove a rejected request wrote nothing. */
export async function countRows(db: Db): Promise<RowCounts> {
  const counts = {} as RowCounts;
  for (const table of TABLES) {
    const result = await db.execute(sql.raw(`select count(*)::int as n from ${table}`));
    counts[table] = Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
  }
  return counts;
}

/** Every file under a directory (recursively), relative names. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full, `${prefix}${entry}/`);
      else out.push(`${prefix}${entry}`);
    }
  };
  walk(dir, '');
  return out;
}
