import type { Bus } from '@sie/bus';
import { eventStreamSubjects } from '@sie/bus';
import type { Logger } from '@sie/telemetry';

const NANOS_PER_MS = 1_000_000;

export const EVENTS_STREAM = 'SIE_EVENTS';
export const STATE_BUCKET = 'sie_rules_state';

type Nc = Bus['nc'];
/** A KV bucket as the nats client hands it out. */
export type StateKv = Awaited<ReturnType<ReturnType<Nc['jetstream']>['views']['kv']>>;

export interface EventsStreamOptions {
  maxAgeDays: number;
  maxMsgsPerSubject: number;
  duplicateWindowMs: number;
}

/**
 * Creates the events stream (`sie.evt.>`, file storage, bounded) when it does not exist. Idempotent:
 * every rules service calls it at startup; a stream made by another process is used as it is.
 */
export async function ensureEventsStream(
  bus: Bus,
  options: EventsStreamOptions,
  logger: Logger,
): Promise<void> {
  const jsm = await bus.nc.jetstreamManager();
  const subjects = [eventStreamSubjects()];
  try {
    await jsm.streams.add({
      name: EVENTS_STREAM,
      subjects,
      max_age: Math.round(options.maxAgeDays * 86_400_000) * NANOS_PER_MS,
      max_msgs_per_subject: options.maxMsgsPerSubject,
      duplicate_window: options.duplicateWindowMs * NANOS_PER_MS,
      max_bytes: 4 * 1024 * 1024 * 1024,
    });
  } catch (err) {
    const info = await jsm.streams.info(EVENTS_STREAM).catch(() => undefined);
    if (!info) throw err;
    const missing = subjects.filter((s) => !info.config.subjects.includes(s));
    if (missing.length > 0) {
      logger.warn(
        { stream: EVENTS_STREAM, subjects: info.config.subjects, missing },
        'events stream exists with other subjects',
      );
    }
  }
}

/** Opens (creating when missing) the KV bucket of run state snapshots: one key per run, history 1. */
export async function openStateBucket(bus: Bus, ttlMs: number): Promise<StateKv> {
  return bus.nc.jetstream().views.kv(STATE_BUCKET, { history: 1, ttl: ttlMs });
}
