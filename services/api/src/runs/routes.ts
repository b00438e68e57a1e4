import { newId, pipelines, runTransitions, runs, type Run } from '@sie/db';
import { NotFoundError, SourceInvalidError } from '@sie/errors';
import { recordRunCreated } from '@sie/lifecycle';
import { parseSourceUrl } from '@sie/media';
import { and, asc, desc, eq, inArray, notInArray, sql, type SQL } from 'drizzle-orm';
import type { RouteContext } from '../context.js';
import {
  ConflictError,
  ReferenceNotFoundError,
  RequestInvalidError,
  SourceFieldInvalidError,
} from '../errors.js';
import { errorSchema } from '../http/error-schema.js';
import { addRoute } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import { outputJson, runToJson, transitionToJson } from './json.js';
import {
  createRunSchema,
  listRunsQuerySchema,
  runCreatedJsonSchema,
  runDetailJsonSchema,
  runListJsonSchema,
  stopJsonSchema,
  transitionListJsonSchema,
} from './schema.js';
import { stopRun } from './stop.js';

const TAG = 'runs';

export function registerRunRoutes(ctx: RouteContext): void {
  const { app, catalog, config, db } = ctx;
  const tenantDefault = config.tenants.default;
  const bases = { rtsp: config.rtsp.publicBaseUrl, preview: config.dashboard.previewBaseUrl };
  const notFound = { description: 'No such run in this tenant', schema: errorSchema };

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/runs',
      operationId: 'createRun',
      summary: 'Enqueue a run of a pipeline on a source',
      description:
        'The run is stored as `init_startup` (with its first transition and status message in the ' +
        'same transaction); a scheduler places it on a node. Sources: absolute file paths, ' +
        'file:// URLs, rtsp:// and rtsps:// only.',
      tag: TAG,
      tenant: true,
      body: createRunSchema,
      responses: {
        202: { description: 'Accepted', schema: runCreatedJsonSchema },
        400: {
          description: 'Invalid body, or a forbidden source (source_invalid)',
          schema: errorSchema,
        },
        404: { description: 'pipelineId names no pipeline of this tenant', schema: errorSchema },
        409: { description: 'The output path is in use by a live run', schema: errorSchema },
      },
    },
    async (req, reply, { body }) => {
      const tenantId = tenantOf(req, tenantDefault);
      // Checked here so a bad URL is refused now; the ingest stage checks it again on its node.
      try {
        parseSourceUrl(body.source.url, {
          mediaRoot: config.mediaRoot,
          allowDevices: config.allowDevices,
        });
      } catch (err) {
        throw err instanceof SourceInvalidError
          ? new SourceFieldInvalidError('source.url', err)
          : err;
      }
      const id = newId('run');
      const path = body.output.path ?? id;
      await db.transaction(async (tx) => {
        const [pipeline] = await tx
          .select({ version: pipelines.version })
          .from(pipelines)
          .where(and(eq(pipelines.id, body.pipelineId), eq(pipelines.tenantId, tenantId)))
          .for('share');
        if (!pipeline) throw new ReferenceNotFoundError('pipeline', body.pipelineId, 'pipelineId');
        // Two live runs publishing to one RTSP path would fight over it; the lock orders the check.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sie.output:${path}`}))`);
        const [clash] = await tx
          .select({ id: runs.id, tenantId: runs.tenantId })
          .from(runs)
          .where(
            and(
              sql`${runs.output}->>'path' = ${path}`,
              notInArray(runs.status, ['inactive', 'failed']),
            ),
          )
          .limit(1);
        if (clash) {
          throw new ConflictError(
            `output path ${path} is in use by ${clash.tenantId === tenantId ? `run ${clash.id}` : 'another run'}`,
            { field: 'output.path' },
          );
        }
        await tx.insert(runs).values({
          id,
          tenantId,
          pipelineId: body.pipelineId,
          pipelineVersion: pipeline.version,
          source: body.source,
          output: { path },
        });
        await recordRunCreated(tx, { runId: id, tenantId, actor: 'api' });
      });
      return reply
        .code(202)
        .header('location', `/v1/runs/${id}`)
        .send({ id, status: 'init_startup', output: outputJson(bases, id, path) });
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/runs',
      operationId: 'listRuns',
      summary: "The tenant's runs, newest first, a page at a time",
      tag: TAG,
      tenant: true,
      query: listRunsQuerySchema,
      responses: {
        200: { description: 'One page', schema: runListJsonSchema },
        400: { description: 'Bad filter, limit or cursor', schema: errorSchema },
      },
    },
    async (req, _reply, { query }) => {
      const tenantId = tenantOf(req, tenantDefault);
      const where: SQL[] = [eq(runs.tenantId, tenantId)];
      if (query.status) where.push(inArray(runs.status, query.status));
      if (query.cursor) {
        const [after] = await db
          .select({ createdAt: runs.createdAt })
          .from(runs)
          .where(and(eq(runs.id, query.cursor), eq(runs.tenantId, tenantId)));
        if (!after) {
          throw new RequestInvalidError([{ path: 'cursor', message: 'not a cursor of this list' }]);
        }
        // Row comparison on (created_at, id): exact (microseconds stay in the database) and stable.
        where.push(
          sql`(${runs.createdAt}, ${runs.id}) < (select r.created_at, r.id from runs r where r.id = ${query.cursor})`,
        );
      }
      const rows = await db
        .select()
        .from(runs)
        .where(and(...where))
        .orderBy(desc(runs.createdAt), desc(runs.id))
        .limit(query.limit + 1);
      const page = rows.slice(0, query.limit);
      const more = rows.length > query.limit;
      return {
        items: page.map((r) => ({ ...runToJson(r, bases), live: ctx.live.get(r.id) })),
        nextCursor: more ? (page[page.length - 1]?.id ?? null) : null,
      };
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/runs/:id',
      operationId: 'getRun',
      summary:
        'One run: status, reason, timestamps, node, attempts, output URL, live fps/latency/drops',
      tag: TAG,
      tenant: true,
      responses: { 200: { description: 'The run', schema: runDetailJsonSchema }, 404: notFound },
    },
    async (req, _reply, { params }) => {
      const run = await findRun(ctx, tenantOf(req, tenantDefault), params.id ?? '');
      return { ...runToJson(run, bases), live: ctx.live.get(run.id) };
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/runs/:id/transitions',
      operationId: 'listRunTransitions',
      summary: "The run's state changes, oldest first",
      tag: TAG,
      tenant: true,
      responses: {
        200: { description: 'Every transition', schema: transitionListJsonSchema },
        404: notFound,
      },
    },
    async (req, _reply, { params }) => {
      const run = await findRun(ctx, tenantOf(req, tenantDefault), params.id ?? '');
      const rows = await db
        .select()
        .from(runTransitions)
        .where(eq(runTransitions.runId, run.id))
        .orderBy(asc(runTransitions.id));
      return { items: rows.map(transitionToJson) };
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/runs/:id/stop',
      operationId: 'stopRun',
      summary: 'Ask a run to stop',
      description:
        'Sets the desired state to `stopped`. A run not yet placed moves to `init_shutdown` at ' +
        'once. Repeating the call is harmless; a run that already ended answers 409.',
      tag: TAG,
      tenant: true,
      responses: {
        202: { description: 'Stopping', schema: stopJsonSchema },
        404: notFound,
        409: { description: 'The run already ended', schema: errorSchema },
      },
    },
    async (req, reply, { params }) => {
      const outcome = await stopRun(db, tenantOf(req, tenantDefault), params.id ?? '');
      return reply.code(202).send(outcome);
    },
  );
}

async function findRun(ctx: RouteContext, tenantId: string, id: string): Promise<Run> {
  const [run] = await ctx.db
    .select()
    .from(runs)
    .where(and(eq(runs.id, id), eq(runs.tenantId, tenantId)));
  if (!run) throw new NotFoundError('run', id);
  return run;
}
