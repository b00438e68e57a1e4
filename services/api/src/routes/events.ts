import {
  eventStreamSubjects,
  runEventsSubject,
  tenantEventsFilterSubject,
  type Bus,
} from '@sie/bus';
import { Event } from '@sie/contracts';
import type { Db } from '@sie/db';
import { NotFoundError, UnavailableError } from '@sie/errors';
import { RULE_KINDS, idSchema } from '@sie/pipeline';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RequestInvalidError } from '../errors.js';
import { eventToJson } from '../event-json.js';
import { errorSchema } from '../http/error-schema.js';
import type { RouteCatalog } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import { SseStreams } from '../http/sse.js';
import { parseInput } from '../http/validate.js';
import { runSnapshotInfo } from './snapshots.js';

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

const tenantQuerySchema = querySchema.extend({
  runId: idSchema.optional().describe('Only the events of this run'),
  ruleId: idSchema.optional().describe('Only the events of this rule (in any run)'),
  type: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(RULE_KINDS)).min(1))
    .optional()
    .describe(`Only these kinds, comma-separated: ${RULE_KINDS.join(', ')}`),
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
      'counts, message, objects, and `snapshotUrl` when the pipeline takes snapshots), `id` = ' +
      'the stream sequence. Reconnect with `Last-Event-ID` to ' +
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
    const start = startOf(lastEventIdOf(req), query.since);
    const owner = await runSnapshotInfo(deps.db, runId);
    // Another tenant's run is as unknown as a run that does not exist: both answer 404, so an
    // id guessed across tenants tells nothing. Runs outside the registry (stages driven
    // directly, as the local demo does) are readable by the default tenant only.
    const visible = owner ? owner.tenantId === tenantId : tenantId === deps.defaultTenant;
    if (!visible) throw new NotFoundError('run', runId);
    const snapshots = owner?.snapshots ?? false;
    await streamEvents(deps, streams, req, reply, runEventsSubject(tenantId, runId), start, {
      snapshotsOf: () => Promise.resolve(snapshots),
    });
  });

  const tenantUrl = '/v1/events';
  catalog.add({
    method: 'GET',
    url: tenantUrl,
    operationId: 'streamEvents',
    summary: "The tenant's rule events (Server-Sent Events), filtered, live and resumable",
    description:
      'Every run of the tenant, narrowed by `runId`, `ruleId` (JetStream subject filters) and ' +
      '`type` (event kinds). Same event form, `Last-Event-ID` and `?since=` as ' +
      '`/v1/runs/{id}/events`.',
    tag: 'events',
    tenant: true,
    query: tenantQuerySchema,
    responses: {
      200: { description: 'text/event-stream', contentType: 'text/event-stream' },
      400: { description: 'A bad filter or since', schema: errorSchema },
      503: { description: 'The events stream does not exist yet', schema: errorSchema },
    },
  });
  app.get(tenantUrl, async (req, reply) => {
    const query = parseInput(tenantQuerySchema, req.query ?? {});
    const tenantId = tenantOf(req, deps.defaultTenant);
    const start = startOf(lastEventIdOf(req), query.since);
    const subject = tenantEventsFilterSubject(tenantId, {
      ...(query.runId === undefined ? {} : { runId: query.runId }),
      ...(query.ruleId === undefined ? {} : { ruleId: query.ruleId }),
    });
    const kinds = query.type ? new Set<string>(query.type) : undefined;
    await streamEvents(deps, streams, req, reply, subject, start, {
      ...(kinds ? { kinds } : {}),
      snapshotsOf: async (runId) => (await runSnapshotInfo(deps.db, runId))?.snapshots ?? false,
    });
  });
}

function lastEventIdOf(req: FastifyRequest): string | undefined {
  const lastId = req.headers['last-event-id'];
  return Array.isArray(lastId) ? lastId[0] : lastId;
}

/**
 * Opens an ordered consumer on `SIE_EVENTS` for one subject filter and relays its events as SSE
 * (`id` = stream sequence). The kind filter is applied here: the kind is not a subject token.
 */
async function streamEvents(
  deps: EventsRouteDeps,
  streams: SseStreams,
  req: FastifyRequest,
  reply: FastifyReply,
  filterSubject: string,
  start: Partial<ConsumerOptions>,
  options: {
    kinds?: ReadonlySet<string>;
    /** Whether a run's pipeline takes snapshots (its events then link one), asked once per run. */
    snapshotsOf: (runId: string) => Promise<boolean>;
  },
): Promise<void> {
  const { kinds } = options;
  const snapshotsByRun = new Map<string, Promise<boolean>>();
  const snapshotsOf = (runId: string): Promise<boolean> => {
    let known = snapshotsByRun.get(runId);
    if (!known) {
      known = options.snapshotsOf(runId).catch(() => false);
      snapshotsByRun.set(runId, known);
    }
    return known;
  };
  let consumer;
  try {
    consumer = await deps.bus.nc.jetstream().consumers.get(EVENTS_STREAM, {
      filterSubjects: filterSubject,
      ...start,
    });
  } catch (cause) {
    throw new UnavailableError(
      `events stream ${EVENTS_STREAM} (${eventStreamSubjects()}) is not available`,
      { cause },
    );
  }
  const messages = await consumer.consume();
  const stream = streams.open(req, reply, () => void messages.close());
  void (async () => {
    for await (const m of messages) {
      let event;
      try {
        event = Event.decode(m.data);
      } catch {
        continue;
      }
      const json = eventToJson(event, { snapshots: await snapshotsOf(event.runId) });
      if (kinds && !kinds.has(String(json.kind))) continue;
      stream.send(m.seq, 'event', json);
    }
  })().catch((err: unknown) => req.log.warn({ err }, 'events stream ended'));
}
