import type { SieError } from '@sie/errors';
import { ModelNotFoundError, NotFoundError, asSieError } from '@sie/errors';
import { models, pipelines, type Db, type Model } from '@sie/db';
import { newId } from '@sie/db';
import { decoderColumn, modelMetadataSchema, modelSpecOf } from '@sie/models';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { RouteContext } from '../context.js';
import { isUniqueViolation } from '../db-errors.js';
import { ConflictError, UnsupportedMediaTypeError } from '../errors.js';
import { errorSchema } from '../http/error-schema.js';
import { isMultipart } from '../http/multipart.js';
import { addRoute } from '../http/route.js';
import { ensureTenant, tenantOf } from '../http/tenant.js';
import {
  modelJsonSchema,
  modelListJsonSchema,
  modelToJson,
  modelUploadedJsonSchema,
} from './json.js';
import { checkModelShapes } from './shape-check.js';
import { receiveModelUpload } from './upload.js';

const TAG = 'models';

/** A live (not deleted) model of the tenant, or undefined. */
export async function findModel(db: Db, tenantId: string, id: string): Promise<Model | undefined> {
  const [row] = await db
    .select()
    .from(models)
    .where(and(eq(models.id, id), eq(models.tenantId, tenantId), isNull(models.deletedAt)));
  return row;
}

export function registerModelRoutes(ctx: RouteContext): void {
  const { app, catalog, config, db, inference, store } = ctx;
  const tenantDefault = config.tenants.default;

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/models',
      operationId: 'uploadModel',
      summary: 'Register an ONNX model',
      description:
        'multipart/form-data with `file` (the ONNX model) and `metadata` (JSON). The file is opened ' +
        'with ONNX Runtime and its input/output shapes are checked against the metadata before ' +
        'anything is stored; it is then stored under its sha256 and the inference service is ' +
        'asked to load it (`loaded: false` when it could not be reached: the scheduler loads ' +
        'models before runs).',
      tag: TAG,
      tenant: true,
      multipart: {
        file: { description: 'The ONNX model', file: true, required: true },
        metadata: {
          description: 'What the model expects',
          json: modelMetadataSchema,
          required: true,
        },
      },
      responses: {
        201: { description: 'Registered', schema: modelUploadedJsonSchema },
        400: {
          description: 'Bad metadata, not ONNX, or shapes that disagree (model_error)',
          schema: errorSchema,
        },
        409: {
          description: 'The same file is already registered in this tenant',
          schema: errorSchema,
        },
        413: { description: 'Larger than models.maxUploadBytes', schema: errorSchema },
        507: {
          description: 'The model store is full (storage_full); nothing was kept',
          schema: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req, tenantDefault);
      if (!isMultipart(req)) {
        throw new UnsupportedMediaTypeError(
          'upload the model as multipart/form-data (file + metadata)',
        );
      }
      const upload = await receiveModelUpload(req, store, config.models.maxUploadBytes);
      let row: Model;
      let created: { path: string; created: boolean } | undefined;
      try {
        checkModelShapes(upload.metadata, await ctx.inspectModel(upload.tempPath));
        const duplicate = await findByHash(db, tenantId, upload.sha256);
        if (duplicate) throw duplicateError(duplicate.id);
        created = await store.commit(upload.tempPath, upload.sha256);
        const m = upload.metadata;
        const inserted = await db.transaction(async (tx) => {
          await ensureTenant(tx, tenantId);
          return tx
            .insert(models)
            .values({
              id: newId('mdl'),
              tenantId,
              name: m.name,
              task: m.task,
              decoder: decoderColumn(m),
              inputWidth: m.inputWidth,
              inputHeight: m.inputHeight,
              classNames: m.classNames,
              pixelOrder: m.pixelOrder,
              pixelScale: m.pixelScale,
              padValue: m.padValue,
              contentHash: upload.sha256,
              filePath: created?.path ?? '',
              sizeBytes: upload.sizeBytes,
            })
            .returning();
        });
        row = inserted[0] as Model;
      } catch (err) {
        await store.remove(upload.tempPath);
        // A file this request created and no row points to is removed again.
        if (created?.created && !(await hashInUse(db, upload.sha256))) {
          await store.remove(created.path);
        }
        if (isUniqueViolation(err)) {
          const winner = await findByHash(db, tenantId, upload.sha256);
          if (winner) throw duplicateError(winner.id);
        }
        throw err;
      }
      const load = await loadIntoInference(ctx, row, req.log);
      return reply
        .code(201)
        .header('location', `/v1/models/${row.id}`)
        .send({ ...modelToJson(row), ...load });
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/models',
      operationId: 'listModels',
      summary: "The tenant's models",
      tag: TAG,
      tenant: true,
      responses: { 200: { description: 'Newest first', schema: modelListJsonSchema } },
    },
    async (req) => {
      const tenantId = tenantOf(req, tenantDefault);
      const rows = await db
        .select()
        .from(models)
        .where(and(eq(models.tenantId, tenantId), isNull(models.deletedAt)))
        .orderBy(desc(models.createdAt), desc(models.id));
      return { items: rows.map(modelToJson) };
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/models/:id',
      operationId: 'getModel',
      summary: 'One model',
      tag: TAG,
      tenant: true,
      responses: {
        200: { description: 'The model', schema: modelJsonSchema },
        404: { description: 'No such model in this tenant', schema: errorSchema },
      },
    },
    async (req, _reply, { params }) => {
      const row = await findModel(db, tenantOf(req, tenantDefault), params.id ?? '');
      if (!row) throw new NotFoundError('model', params.id ?? '');
      return modelToJson(row);
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'DELETE',
      url: '/v1/models/:id',
      operationId: 'deleteModel',
      summary: 'Delete a model (refused while a pipeline uses it)',
      description:
        'Soft delete: the row stays for the runs that used it, the file stays on disk, and the ' +
        'inference service is told to unload it.',
      tag: TAG,
      tenant: true,
      responses: {
        204: { description: 'Deleted' },
        404: { description: 'No such model in this tenant', schema: errorSchema },
        409: { description: 'A pipeline uses it', schema: errorSchema },
      },
    },
    async (req, reply, { params }) => {
      const tenantId = tenantOf(req, tenantDefault);
      const id = params.id ?? '';
      await db.transaction(async (tx) => {
        // Locks the row: a pipeline being pointed at it (FOR SHARE there) waits or makes us wait.
        const [row] = await tx
          .select({ id: models.id })
          .from(models)
          .where(and(eq(models.id, id), eq(models.tenantId, tenantId), isNull(models.deletedAt)))
          .for('update');
        if (!row) throw new NotFoundError('model', id);
        const users = await tx
          .select({ id: pipelines.id })
          .from(pipelines)
          .where(eq(pipelines.modelId, id))
          .limit(20);
        if (users.length > 0) {
          const ids = users.map((u) => u.id).join(',');
          throw new ConflictError(`model ${id} is used by pipeline(s) ${ids}`, { pipelines: ids });
        }
        await tx.update(models).set({ deletedAt: new Date() }).where(eq(models.id, id));
      });
      await inference.unloadModel(id).catch((err: unknown) => {
        // Not loaded there (or inference is down): nothing to unload, the row is what counts.
        if (!(err instanceof ModelNotFoundError)) {
          req.log.warn({ err, modelId: id }, 'inference did not unload the deleted model');
        }
      });
      return reply.code(204).send();
    },
  );
}

async function findByHash(db: Db, tenantId: string, sha256: string): Promise<Model | undefined> {
  const [row] = await db
    .select()
    .from(models)
    .where(
      and(eq(models.tenantId, tenantId), eq(models.contentHash, sha256), isNull(models.deletedAt)),
    );
  return row;
}

async function hashInUse(db: Db, sha256: string): Promise<boolean> {
  const rows = await db
    .select({ id: models.id })
    .from(models)
    .where(eq(models.contentHash, sha256))
    .limit(1);
  return rows.length > 0;
}

function duplicateError(existingId: string): ConflictError {
  return new ConflictError(`this file is already registered as model ${existingId}`, {
    modelId: existingId,
  });
}

/**
 * Asks inference to load a model now, so it serves without a restart. Failing that the model stays
 * registered: the scheduler loads a pipeline's model before its runs start.
 */
async function loadIntoInference(
  ctx: RouteContext,
  row: Model,
  log: FastifyBaseLogger,
): Promise<{ loaded: boolean; loadError?: { code: string; message: string } }> {
  try {
    await ctx.inference.loadModel(modelSpecOf(row));
    return { loaded: true };
  } catch (err) {
    const e: SieError = asSieError(err);
    log.warn({ err: e, modelId: row.id }, 'inference did not load the new model');
    return { loaded: false, loadError: { code: e.code, message: e.message } };
  }
}
