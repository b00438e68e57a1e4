import { NotFoundError } from '@sie/errors';
import { models, newId, pipelines, type Pipeline } from '@sie/db';
import type { DbTx } from '@sie/lifecycle';
import { isUnderRoot } from '@sie/pipeline';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { resolve } from 'node:path';
import type { RouteContext } from '../context.js';
import { ReferenceNotFoundError, RequestInvalidError } from '../errors.js';
import { errorSchema } from '../http/error-schema.js';
import { addRoute } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import {
  pipelineBodySchema,
  pipelineJsonSchema,
  pipelineListJsonSchema,
  pipelineToJson,
  type PipelineBody,
} from './schema.js';

const TAG = 'pipelines';

/** A local capture directory must lie under the node's capture root (absolute, no `..`: schema). */
function checkCaptureDir(body: PipelineBody, captureRoot: string): void {
  const d = body.config.capture.destination;
  if (d?.type === 'local' && !isUnderRoot(d.dir, captureRoot)) {
    throw new RequestInvalidError([
      {
        path: 'config.capture.destination.dir',
        message: `must lie under the capture root ${captureRoot}`,
      },
    ]);
  }
}

/**
 * Checks that the model exists in the tenant and holds a share lock on it until the transaction
 * ends, so a concurrent DELETE cannot remove it between this check and the pipeline's write.
 */
async function lockModel(tx: DbTx, tenantId: string, modelId: string): Promise<void> {
  const [row] = await tx
    .select({ id: models.id })
    .from(models)
    .where(and(eq(models.id, modelId), eq(models.tenantId, tenantId), isNull(models.deletedAt)))
    .for('share');
  if (!row) throw new ReferenceNotFoundError('model', modelId, 'modelId');
}

export function registerPipelineRoutes(ctx: RouteContext): void {
  const { app, catalog, config, db } = ctx;
  const tenantDefault = config.tenants.default;
  const captureRoot = resolve(config.capture.rootDir);
  const notFound = { description: 'No such pipeline in this tenant', schema: errorSchema };
  const invalid = { description: 'Invalid body (every bad field listed)', schema: errorSchema };

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/pipelines',
      operationId: 'createPipeline',
      summary: 'Create a pipeline (per-client configuration of runs)',
      tag: TAG,
      tenant: true,
      body: pipelineBodySchema,
      responses: {
        201: { description: 'Created', schema: pipelineJsonSchema },
        400: invalid,
        404: { description: 'modelId names no model of this tenant', schema: errorSchema },
      },
    },
    async (req, reply, { body }) => {
      checkCaptureDir(body, captureRoot);
      const tenantId = tenantOf(req, tenantDefault);
      const row = await db.transaction(async (tx) => {
        await lockModel(tx, tenantId, body.modelId);
        const [inserted] = await tx
          .insert(pipelines)
          .values({
            id: newId('pl'),
            tenantId,
            name: body.name,
            modelId: body.modelId,
            config: body.config,
          })
          .returning();
        return inserted as Pipeline;
      });
      return reply
        .code(201)
        .header('location', `/v1/pipelines/${row.id}`)
        .send(pipelineToJson(row));
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/pipelines',
      operationId: 'listPipelines',
      summary: "The tenant's pipelines",
      tag: TAG,
      tenant: true,
      responses: { 200: { description: 'Newest first', schema: pipelineListJsonSchema } },
    },
    async (req) => {
      const rows = await db
        .select()
        .from(pipelines)
        .where(eq(pipelines.tenantId, tenantOf(req, tenantDefault)))
        .orderBy(desc(pipelines.createdAt), desc(pipelines.id));
      return { items: rows.map(pipelineToJson) };
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/pipelines/:id',
      operationId: 'getPipeline',
      summary: 'One pipeline',
      tag: TAG,
      tenant: true,
      responses: {
        200: { description: 'The pipeline', schema: pipelineJsonSchema },
        404: notFound,
      },
    },
    async (req, _reply, { params }) => {
      const id = params.id ?? '';
      const [row] = await db
        .select()
        .from(pipelines)
        .where(and(eq(pipelines.id, id), eq(pipelines.tenantId, tenantOf(req, tenantDefault))));
      if (!row) throw new NotFoundError('pipeline', id);
      return pipelineToJson(row);
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'PUT',
      url: '/v1/pipelines/:id',
      operationId: 'replacePipeline',
      summary: 'Replace a pipeline (bumps its version; running runs keep theirs)',
      tag: TAG,
      tenant: true,
      body: pipelineBodySchema,
      responses: {
        200: { description: 'The new version', schema: pipelineJsonSchema },
        400: invalid,
        404: notFound,
      },
    },
    async (req, _reply, { body, params }) => {
      checkCaptureDir(body, captureRoot);
      const tenantId = tenantOf(req, tenantDefault);
      const id = params.id ?? '';
      const row = await db.transaction(async (tx) => {
        const [existing] = await tx
          .select({ id: pipelines.id })
          .from(pipelines)
          .where(and(eq(pipelines.id, id), eq(pipelines.tenantId, tenantId)))
          .for('update');
        if (!existing) throw new NotFoundError('pipeline', id);
        await lockModel(tx, tenantId, body.modelId);
        const [updated] = await tx
          .update(pipelines)
          .set({
            name: body.name,
            modelId: body.modelId,
            config: body.config,
            version: sql`${pipelines.version} + 1`,
            updatedAt: new Date(),
          })
          .where(eq(pipelines.id, id))
          .returning();
        return updated as Pipeline;
      });
      return pipelineToJson(row);
    },
  );
}
