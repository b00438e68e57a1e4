import { detectionsSubject, type Bus } from '@sie/bus';
import { FrameDetections } from '@sie/contracts';
import { runs, type Db } from '@sie/db';
import { NotFoundError } from '@sie/errors';
import { idSchema } from '@sie/pipeline';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { detectionsToJson } from '../detection-json.js';
import { errorSchema } from '../http/error-schema.js';
import type { RouteCatalog } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import { SseStreams } from '../http/sse.js';
import { parseInput } from '../http/validate.js';
import type { LatestDetections } from '../latest-detections.js';

export interface DetectionsRouteDeps {
  bus: Bus;
  db: Db;
  latest: LatestDetections;
  maxRatePerSec: number;
  defaultTenant: string;
}

const paramsSchema = z.strictObject({ id: idSchema });
const querySchema = z.strictObject({
  /** Present (any value): answer the most recent detections as JSON instead of a stream. */
  latest: z.string().optional(),
});

/**
 * GET /v1/runs/:id/detections — the run's detections live as Server-Sent Events, sampled to at
 * most `maxRatePerSec` messages a second; `?latest` returns the most recent one as JSON. A run
 * registered under another tenant answers 404; runs started outside the registry (the local demo
 * drives stages directly) stay readable by the default tenant, and answer 404 to any other.
 */
export function registerDetectionsRoute(
  app: FastifyInstance,
  catalog: RouteCatalog,
  deps: DetectionsRouteDeps,
): void {
  const url = '/v1/runs/:id/detections';
  catalog.add({
    method: 'GET',
    url,
    operationId: 'streamRunDetections',
    summary: "The run's detections live (Server-Sent Events), or the latest one with ?latest",
    description:
      'Events are `event: detections`, JSON data, `id` = frame sequence, sampled to at most ' +
      '`detections.sseMaxRatePerSec` per client.',
    tag: 'runs',
    tenant: true,
    query: querySchema,
    responses: {
      200: {
        description: 'text/event-stream, or JSON with ?latest',
        contentType: 'text/event-stream',
      },
      404: {
        description: 'No detections yet (?latest), or a run of another tenant',
        schema: errorSchema,
      },
    },
  });
  const streams = new SseStreams(app);
  app.get(url, async (req, reply) => {
    const { id: runId } = parseInput(paramsSchema, req.params);
    const query = parseInput(querySchema, req.query ?? {});
    const tenantId = tenantOf(req, deps.defaultTenant);
    const [owner] = await deps.db
      .select({ tenantId: runs.tenantId })
      .from(runs)
      .where(eq(runs.id, runId));
    // Another tenant's run is as unknown as a run that does not exist: both answer 404, so an
    // id guessed across tenants tells nothing. Runs outside the registry (stages driven
    // directly, as the local demo does) are readable by the default tenant only.
    const visible = owner ? owner.tenantId === tenantId : tenantId === deps.defaultTenant;
    if (!visible) throw new NotFoundError('run', runId);
    if (query.latest !== undefined) {
      const d = deps.latest.get(runId);
      if (!d) throw new NotFoundError('detections of run', runId);
      return reply.send(detectionsToJson(d));
    }
    const minGapMs = 1000 / deps.maxRatePerSec;
    let lastSent = 0;
    const sub = deps.bus.nc.subscribe(detectionsSubject(runId), {
      callback: (err, msg) => {
        if (err) return;
        const now = Date.now();
        if (now - lastSent < minGapMs) return;
        lastSent = now;
        const d = FrameDetections.decode(msg.data);
        stream.send(d.frame?.seq ?? 0, 'detections', detectionsToJson(d));
      },
    });
    const stream = streams.open(req, reply, () => sub.unsubscribe());
  });
}
