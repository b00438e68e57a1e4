import { runStatusStreamSubjects, type Bus } from '@sie/bus';
import { outbox, type Db } from '@sie/db';
import type { Logger } from '@sie/telemetry';
import { asc, inArray, isNull, sql } from 'drizzle-orm';
import type { SchedulerMetrics } from './metrics.js';

export interface OutboxRelayOptions {
  /** JetStream stream that keeps the status subjects. */
  stream: string;
  /** Subjects the stream captures; every run status subject (`sie.status.>`) by default. */
  subjects?: string[];
  pollIntervalMs: number;
  batchSize: number;
  maxAgeDays: number;
  duplicateWindowMs: number;
  /** Deadline of one publish acknowledgement. */
  publishTimeoutMs?: number;
}

// One relay publishes at a time (a transaction-level advisory lock), so rows go out in id order
// across every scheduler and a run's status changes reach subscribers in the order they happened.
// Arbitrary key; every scheduler uses the same one (the migrations' lock is …941).
const RELAY_LOCK_KEY = '3345445991227683942';

const NANOS_PER_MS = 1_000_000;

/**
 * Publishes the transactional outbox to JetStream: rows written with each run transition are sent
 * in id order with their dedup id as `Nats-Msg-Id` (JetStream drops a re-sent id within its
 * duplicate window), and marked published in the same transaction that locked them, after the
 * acknowledgements. A crash between the two re-sends rows JetStream then ignores: at least once on
 * the wire, once in the stream.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private again = false;
  private streamReady = false;
  private lastError = '';

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
    private readonly metrics?: SchedulerMetrics,
  ) {}

  /** Creates the stream when it does not exist (idempotent; every scheduler calls it). */
  async ensureStream(): Promise<void> {
    const jsm = await this.bus.nc.jetstreamManager();
    const subjects = this.options.subjects ?? [runStatusStreamSubjects()];
    const config = {
      name: this.options.stream,
      subjects,
      max_age: Math.round(this.options.maxAgeDays * 86_400_000) * NANOS_PER_MS,
      duplicate_window: this.options.duplicateWindowMs * NANOS_PER_MS,
      max_bytes: 1024 * 1024 * 1024,
    };
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Created by another process, maybe with other limits: use it as it is.
      const info = await jsm.streams.info(this.options.stream).catch(() => undefined);
      if (!info) throw err;
      const missing = subjects.filter((s) => !info.config.subjects.includes(s));
      if (missing.length > 0) {
        this.logger.warn(
          { stream: this.options.stream, subjects: info.config.subjects, missing },
          'status stream exists with other subjects',
        );
      }
    }
    this.streamReady = true;
  }

  start(): void {
    this.schedule(0);
  }

  /** Runs the relay soon (a transition was just committed). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** 'ok' while publishing works. */
  state(): string {
    return this.lastError ? `outbox relay failing: ${this.lastError}` : 'ok';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        const more = this.again;
        this.again = false;
        this.schedule(more ? 0 : this.options.pollIntervalMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      if (!this.streamReady) await this.ensureStream();
      for (;;) {
        const { published, failed } = await this.relayOnce();
        if (failed) return;
        this.lastError = '';
        // A full batch means more is waiting: go on at once.
        if (this.stopped || published < this.options.batchSize) return;
      }
    } catch (err) {
      if (!this.lastError) this.logger.warn({ err }, 'outbox relay failed; retrying');
      this.lastError = err instanceof Error ? err.message : String(err);
      this.metrics?.dbErrors.inc({ op: 'outbox' });
    }
  }

  /** Publishes one batch; `published`: rows marked published, `failed`: a publish failed. */
  async relayOnce(): Promise<{ published: number; failed: boolean }> {
    const js = this.bus.nc.jetstream();
    const timeout = this.options.publishTimeoutMs ?? 5000;
    return this.db.transaction(async (tx) => {
      const lock = await tx.execute<{ ok: boolean }>(
        sql`select pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}::bigint) as ok`,
      );
      if (!lock.rows[0]?.ok) return { published: 0, failed: false };
      const rows = await tx
        .select({
          id: outbox.id,
          subject: outbox.subject,
          payload: outbox.payload,
          dedupId: outbox.dedupId,
        })
        .from(outbox)
        .where(isNull(outbox.publishedAt))
        .orderBy(asc(outbox.id))
        .limit(this.options.batchSize)
        .for('update', { skipLocked: true });
      const published: number[] = [];
      let failed = false;
      for (const row of rows) {
        try {
          await js.publish(row.subject, row.payload, { msgID: row.dedupId, timeout });
        } catch (err) {
          // Later rows may belong to the same run: keep the order, try again next tick.
          if (!this.lastError) {
            this.logger.warn(
              { err, subject: row.subject, id: row.id },
              'publishing a status change failed; retrying',
            );
          }
          this.lastError = err instanceof Error ? err.message : String(err);
          failed = true;
          break;
        }
        published.push(row.id);
      }
      if (published.length > 0) {
        await tx
          .update(outbox)
          .set({ publishedAt: sql`now()` })
          .where(inArray(outbox.id, published));
        this.metrics?.outboxPublished.inc(published.length);
      }
      return { published: published.length, failed };
    });
  }
}
