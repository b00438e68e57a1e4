import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Bus } from '@sie/bus';
import { createDb, migrate, outbox, type DbHandle } from '@sie/db';
import {
  findFreePort,
  freshDatabase,
  startNats,
  type NatsServer,
  type TestDatabase,
} from '@sie/infra';
import { Registry } from '@sie/telemetry';
import { isNull, sql } from 'drizzle-orm';
import { SchedulerMetrics } from './metrics.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import { quietLogger } from './testing/fixtures.js';

let database: TestDatabase;
let h: DbHandle;
let nats: NatsServer;
let natsDir: string;
let bus: Bus;

const options: OutboxRelayOptions = {
  // No `subjects`: the default (@sie/bus' runStatusStreamSubjects) is what the stream gets.
  stream: 'SIE_STATUS',
  pollIntervalMs: 50,
  batchSize: 7,
  maxAgeDays: 7,
  duplicateWindowMs: 120_000,
  publishTimeoutMs: 1000,
};

before(async () => {
  natsDir = mkdtempSync(join(tmpdir(), 'sie-relay-nats-'));
  [database, nats] = await Promise.all([
    freshDatabase(),
    findFreePort().then((port) => startNats({ port, storeDir: natsDir })),
  ]);
  await migrate(database.url);
  h = createDb(database.url, { max: 6 });
  bus = await Bus.connect({ servers: nats.url, name: 'relay-test', logger: quietLogger() });
});

after(async () => {
  await bus?.close();
  await h?.close();
  await Promise.allSettled([database?.drop(), nats?.stop()]);
  rmSync(natsDir, { recursive: true, force: true });
});

function relay(o: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  return new OutboxRelay(
    h.db,
    bus,
    { ...options, ...o },
    quietLogger(),
    new SchedulerMetrics(new Registry()),
  );
}

async function insertRows(subject: string, n: number, prefix: string): Promise<void> {
  await h.db.insert(outbox).values(
    Array.from({ length: n }, (_, i) => ({
      subject,
      payload: Buffer.from(`${prefix}-${i}`),
      dedupId: `${prefix}-${i}`,
    })),
  );
}

async function unpublished(): Promise<number> {
  const rows = await h.db.select({ id: outbox.id }).from(outbox).where(isNull(outbox.publishedAt));
  return rows.length;
}

/** Everything the stream holds on `subject`, in stream order (an ordered consumer). */
async function streamed(subject: string, expected: number): Promise<string[]> {
  const js = bus.nc.jetstream();
  const consumer = await js.consumers.get(options.stream, { filterSubjects: subject });
  const out: string[] = [];
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), 3000);
  for await (const m of messages) {
    out.push(new TextDecoder().decode(m.data));
    if (out.length >= expected) break;
  }
  clearTimeout(timer);
  // Anything beyond `expected` would be a duplicate: look for it briefly.
  const extra = await consumer.next({ expires: 500 }).catch(() => null);
  if (extra) out.push(new TextDecoder().decode(extra.data));
  return out;
}

test('the status stream is created with bounded retention and a dedup window, idempotently', async () => {
  await relay().ensureStream();
  await relay().ensureStream();
  const jsm = await bus.nc.jetstreamManager();
  const info = await jsm.streams.info('SIE_STATUS');
  assert.deepEqual(info.config.subjects, ['sie.status.>']);
  assert.equal(info.config.duplicate_window, 120_000 * 1_000_000);
  assert.equal(info.config.max_age, 7 * 86_400_000 * 1_000_000);
});

test('rows go out in id order, once each, and are marked published', async () => {
  await insertRows('sie.status.t1.run_a', 20, 'a');
  const r = relay();
  r.start();
  try {
    const deadline = Date.now() + 5000;
    while ((await unpublished()) > 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(await unpublished(), 0);
  } finally {
    await r.stop();
  }
  // A relay that died after publishing but before marking re-sends: JetStream drops the copies.
  await h.db.update(outbox).set({ publishedAt: null });
  const again = relay();
  while ((await again.relayOnce()).published > 0);
  const got = await streamed('sie.status.t1.run_a', 20);
  assert.deepEqual(
    got,
    Array.from({ length: 20 }, (_, i) => `a-${i}`),
  );
});

test('relays of several schedulers at once keep the order', async () => {
  await insertRows('sie.status.t1.run_b', 60, 'b');
  const relays = [relay(), relay(), relay()];
  for (const r of relays) r.start();
  try {
    const deadline = Date.now() + 8000;
    while ((await unpublished()) > 0 && Date.now() < deadline) {
      for (const r of relays) r.kick();
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
  }
  assert.equal(await unpublished(), 0);
  assert.deepEqual(
    await streamed('sie.status.t1.run_b', 60),
    Array.from({ length: 60 }, (_, i) => `b-${i}`),
  );
});

test('a publish that fails stops the batch; the rest waits, in order, for the next try', async () => {
  await h.db.delete(outbox);
  // No stream captures sie.nowhere: JetStream answers no one, so the publish fails.
  await insertRows('sie.status.t1.run_c', 2, 'c1');
  await insertRows('sie.nowhere.x', 1, 'bad');
  await insertRows('sie.status.t1.run_c', 2, 'c2');
  const r = relay();
  assert.deepEqual(await r.relayOnce(), { published: 2, failed: true });
  assert.match(r.state(), /outbox relay failing/);
  assert.equal(await unpublished(), 3);
  // Once the row can go (here: dropped by hand), the rest follows.
  await h.db.delete(outbox).where(sql`${outbox.subject} = 'sie.nowhere.x'`);
  assert.deepEqual(await r.relayOnce(), { published: 2, failed: false });
  assert.deepEqual(await streamed('sie.status.t1.run_c', 4), ['c1-0', 'c1-1', 'c2-0', 'c2-1']);
});
