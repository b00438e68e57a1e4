import { runEventsSubject, type Bus } from '@sie/bus';
import { Event } from '@sie/contracts';
import { runs, type Db } from '@sie/db';
import { NotFoundError, UnavailableError } from '@sie/errors';
import { idSchema } from '@sie/pipeline';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RequestInvalidError } from '../errors.js';
import { eventToJson } from '../event-json.js';
import { errorSchema } from '../http/error-schema.js';
import type { RouteCatalog } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import { SseStreams } from '../http/sse.js';
import { parseInput } from '../http/validate.js';

/** The JetStream stream the rules service publishes events to (`sie.evt.>`). */
export const EVENTS_STREAM = 'SIE_EVENTS';

export interface EventsRouteDeps {
  bus: Bus;
  db: Db;
  defaultTenant: string;
}

type ConsumerOptions = Exclude<
  Parameters<ReturnType<Bus['nc']['jetstream']>['consumers']['get']>[1],
  string | undefined
>;
type DeliverPolicy = NonNullable<ConsumerOptions['deliver_policy']>;

const paramsSchema = z.strictObject({ id: idSchema });
const querySchema = z.strictObject({
  since: z
    .string()
    .max(64)
    .optional()
    .describe(
      'Replay history first: an ISO 8601 time (events stored at or after it) or a stream ' +
        'sequence (events after it; 0 replays everything the stream still holds)',
    ),
});

const SEQ = /^\d{1,15}$/;

/** Where the consumer starts: after Last-Event-ID, at ?since, or only new events. */
export function startOf(
  lastEventId: string | undefined,
  since: string | undefined,
): Partial<ConsumerOptions> {
  const after = (seq: number): Partial<ConsumerOptions> => ({
    deliver_policy: 'by_start_sequence' as DeliverPolicy,
    opt_start_seq: seq + 1,
  });
  if (lastEventId !== undefined && lastEventId !== '') {
    if (!SEQ.test(lastEventId)) {
      throw new RequestInvalidError([
        { path: 'headers.last-event-id', message: 'a stream sequence (the id of an event)' },
      ]);
    }
    return after(Number(lastEventId));
  }
  if (since === undefined || since === '') return { deliver_policy: 'new' as DeliverPolicy };
  if (SEQ.test(since)) return after(Number(since));
  const t = Date.parse(since);
  if (Number.isNaN(t)) {
    throw new RequestInvalidError([
      { path: 'query.since', message: 'an ISO 8601 time or a stream sequence' },
    ]);
  }
  return {
    deliver_policy: 'by_start_time' as DeliverPolicy,
    opt_start_time: new Date(t).toISOString(),
  };
}

/**
 * GET /v1/runs/:id/events — the run's rule events as Server-Sent Events, read from the JetStream
 * stream `SIE_EVENTS` with an ordered consumer on `sie.evt.<tenant>.<run>.*`. Each SSE `id` is the
 * event's stream sequence, so a client that reconnects with `Last-Event-ID` gets exactly the
 * events after it; `?since=` replays history (by time or sequence) before going live. A run
 * registered under another tenant answers 404, as does, for any tenant but the default one, a run
 * that is not registered at all.
 */
export function registerEventsRoute(
  app: FastifyInstance,
  catalog: RouteCatalog,
  deps: EventsRouteDeps,
): void {
  const url = '/v1/runs/:id/events';
  catalog.add({
    method: 'GET',
    url,
    operationId: 'streamRunEvents',
    summary: "The run's rule events (Server-Sent Events), live and resumable",
    description:
      'Events are `event: event`, JSON data (id, ruleId, kind, captureTimeMs, frameSeq, trackIds, ' +
      'counts, message, objects), `id` = the stream sequence. Reconnect with `Last-Event-ID` to ' +
      'resume after it; `?since=` replays history first.',
    tag: 'runs',
    tenant: true,
    query: querySchema,
    responses: {
      200: { description: 'text/event-stream', contentType: 'text/event-stream' },
      404: { description: 'A run of another tenant', schema: errorSchema },
      503: { description: 'The events stream does not exist yet', schema: errorSchema },
    },
  });
  const streams = new SseStreams(app);
  app.get(url, async (req, reply) => {
    const { id: runId } = parseInput(paramsSchema, req.params);
    const query = parseInput(querySchema, req.query ?? {});
    const tenantId = tenantOf(req, deps.defaultTenant);
    const lastId = req.headers['last-event-id'];
    const start = startOf(Array.isArray(lastId) ? lastId[0] : lastId, query.since);
    const [owner] = await deps.db
      .select({ tenantId: runs.tenantId })
      .from(runs)
      .where(eq(runs.id, runId));
    // Another tenant's run is as unknown as a run that does not exist: both answer 404, so an
    // id guessed across tenants tells nothing. Runs outside the registry (stages driven
    // directly, as the local demo does) are readable by the default tenant only.
    const visible = owner ? owner.tenantId === tenantId : tenantId === deps.defaultTenant;
    if (!visible) throw new NotFoundError('run', runId);
    let consumer;
    try {
      consumer = await deps.bus.nc.jetstream().consumers.get(EVENTS_STREAM, {
        filterSubjects: runEventsSubject(tenantId, runId),
        ...start,
      });
    } catch (cause) {
      throw new UnavailableError(`events stream ${EVENTS_STREAM} is not available`, { cause });
    }
    const messages = await consumer.consume();
    const stream = streams.open(req, reply, () => void messages.close());
    void (async () => {
      for await (const m of messages) {
        let json;
        try {
          json = eventToJson(Event.decode(m.data));
        } catch {
          continue;
        }
        stream.send(m.seq, 'event', json);
      }
    })().catch((err: unknown) => req.log.warn({ err }, 'events stream ended'));
  });
}
