import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipelines, runs, type Db } from '@sie/db';
import { NotFoundError } from '@sie/errors';
import { idSchema, pipelineConfigSchema } from '@sie/pipeline';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { SnapshotNotReadyError } from '../errors.js';
import { errorSchema } from '../http/error-schema.js';
import { addRoute, type RouteCatalog } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import { parseInput } from '../http/validate.js';
import type { FastifyInstance } from 'fastify';

/** Event ids as the rules service makes them: `<run>.<rule>.<seq>.<n>` (safe as a file name). */
export const eventIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}(\.[A-Za-z0-9_-]{1,128}){0,7}$/, 'an event id');

const paramsSchema = z.strictObject({ id: idSchema, eventId: eventIdSchema });

/** Where an event's snapshot is served (the `snapshotUrl` of the event JSON). */
export const snapshotUrlOf = (runId: string, eventId: string): string =>
  `/v1/runs/${runId}/events/${eventId}/snapshot`;

/** The file the render service writes for an event: `<dir>/<tenant>/<run>/<eventId>.jpg`. */
export const snapshotFileOf = (
  dir: string,
  tenantId: string,
  runId: string,
  eventId: string,
): string => join(dir, tenantId, runId, `${eventId}.jpg`);

export interface RunSnapshotInfo {
  tenantId: string;
  snapshots: boolean;
}

/** A run's tenant and whether its pipeline takes snapshots; undefined for no such run. */
export async function runSnapshotInfo(db: Db, runId: string): Promise<RunSnapshotInfo | undefined> {
  const [row] = await db
    .select({ tenantId: runs.tenantId, config: pipelines.config })
    .from(runs)
    .leftJoin(pipelines, eq(pipelines.id, runs.pipelineId))
    .where(eq(runs.id, runId));
  if (!row) return undefined;
  const config = pipelineConfigSchema.safeParse(row.config ?? {});
  return {
    tenantId: row.tenantId,
    snapshots: config.success && config.data.snapshots.enabled,
  };
}

export interface SnapshotRouteDeps {
  db: Db;
  /** Absolute snapshot directory (the render service's `snapshotDir`). */
  dir: string;
  defaultTenant: string;
}

/**
 * GET /v1/runs/:id/events/:eventId/snapshot — the JPEG of the annotated frame of a rule event.
 * Ids are checked before they become a path, and the path is built from the caller's tenant, so
 * another tenant's run is a 404 like a missing one.
 */
export function registerSnapshotRoute(
  app: FastifyInstance,
  catalog: RouteCatalog,
  deps: SnapshotRouteDeps,
): void {
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/runs/:id/events/:eventId/snapshot',
      operationId: 'getEventSnapshot',
      summary: 'The JPEG of the annotated frame of a rule event',
      description:
        'Written by the render service a moment after the event when the pipeline has ' +
        '`snapshots.enabled`; until then (or after retention removed it) the answer is 404 with ' +
        'code `snapshot_not_ready`. A run without snapshots, or of another tenant: 404 `not_found`.',
      tag: 'runs',
      tenant: true,
      responses: {
        200: { description: 'The snapshot', contentType: 'image/jpeg' },
        400: { description: 'A malformed run or event id', schema: errorSchema },
        404: { description: 'not_found or snapshot_not_ready', schema: errorSchema },
      },
    },
    async (req, reply) => {
      const { id: runId, eventId } = parseInput(paramsSchema, req.params);
      const tenantId = tenantOf(req, deps.defaultTenant);
      const info = await runSnapshotInfo(deps.db, runId);
      if (!info || info.tenantId !== tenantId) throw new NotFoundError('run', runId);
      let jpeg: Buffer;
      try {
        jpeg = await readFile(snapshotFileOf(deps.dir, tenantId, runId, eventId));
      } catch {
        if (info.snapshots) throw new SnapshotNotReadyError(eventId);
        throw new NotFoundError('snapshot', eventId);
      }
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'private, max-age=3600')
        .send(jpeg);
    },
  );
}
