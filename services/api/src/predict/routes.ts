import type { DetectRequest, DetectResponse } from '@sie/contracts';
import { ModelNotFoundError } from '@sie/errors';
import { modelSpecOf } from '@sie/models';
import type { RouteContext } from '../context.js';
import {
  ReferenceNotFoundError,
  RequestInvalidError,
  UnsupportedMediaTypeError,
} from '../errors.js';
import { errorSchema } from '../http/error-schema.js';
import {
  checkDeclaredLength,
  formParts,
  isMultipart,
  readLimited,
  requireFields,
} from '../http/multipart.js';
import { addRoute } from '../http/route.js';
import { tenantOf } from '../http/tenant.js';
import { parseInput } from '../http/validate.js';
import { findModel } from '../models/routes.js';
import { predictFieldsSchema, predictJsonSchema } from './schema.js';

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function registerPredictRoute(ctx: RouteContext): void {
  const { app, catalog, config, db, inference } = ctx;
  const maxBytes = config.predict.maxImageBytes;

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/predict',
      operationId: 'predict',
      summary: 'One-off inference on an uploaded image',
      description:
        'multipart/form-data with `image` (JPEG or PNG) and `modelId`; optional `scoreThreshold` ' +
        'and `classes` (comma-separated or a JSON array). Runs through the inference service.',
      tag: 'predict',
      tenant: true,
      multipart: {
        image: { description: 'JPEG or PNG', file: true, required: true },
        modelId: { description: 'A model of this tenant', required: true },
        scoreThreshold: { description: '0–1; the model default when absent' },
        classes: { description: 'Class names to keep (comma-separated or JSON array)' },
      },
      responses: {
        200: { description: 'Detections', schema: predictJsonSchema },
        400: {
          description: 'Bad fields or an image that does not decode (image_invalid)',
          schema: errorSchema,
        },
        404: { description: 'No such model in this tenant', schema: errorSchema },
        413: { description: 'Larger than predict.maxImageBytes', schema: errorSchema },
        503: { description: 'The inference service is unavailable', schema: errorSchema },
      },
    },
    async (req) => {
      const tenantId = tenantOf(req, config.tenants.default);
      if (!isMultipart(req)) {
        throw new UnsupportedMediaTypeError(
          'send the image as multipart/form-data (image + modelId)',
        );
      }
      checkDeclaredLength(req, maxBytes, 'the image');
      const fields: Record<string, string> = {};
      const seen = new Set<string>();
      let image: Buffer | undefined;
      const parts = formParts(req, {
        fileSize: maxBytes + 1,
        files: 1,
        fields: 8,
        fieldSize: 64 << 10,
        parts: 9,
      });
      for await (const part of parts) {
        if (seen.has(part.fieldname)) {
          throw new RequestInvalidError([
            { path: part.fieldname, message: 'given more than once' },
          ]);
        }
        seen.add(part.fieldname);
        if (part.type === 'file') {
          if (part.fieldname !== 'image') {
            throw new RequestInvalidError([
              { path: part.fieldname, message: 'unknown file field (expected image)' },
            ]);
          }
          image = await readLimited(part.file, maxBytes, 'the image');
        } else {
          fields[part.fieldname] = String(part.value);
        }
      }
      requireFields(seen, ['image', 'modelId']);
      const f = parseInput(predictFieldsSchema, fields);
      const model = await findModel(db, tenantId, f.modelId);
      if (!model) throw new ReferenceNotFoundError('model', f.modelId, 'modelId');
      const request: DetectRequest = {
        modelId: model.id,
        input: { $case: 'image', image: { data: image ?? Buffer.alloc(0) } },
        scoreThreshold: f.scoreThreshold ?? 0,
        classes: f.classes ?? [],
        maxDetections: 0,
        requestId: req.id,
      };
      let res: DetectResponse;
      try {
        res = await inference.detect(request);
      } catch (err) {
        // Registered but not loaded there (inference restarted, or was down at upload): load it
        // from the registry and try once more.
        if (!(err instanceof ModelNotFoundError)) throw err;
        await inference.loadModel(modelSpecOf(model));
        res = await inference.detect(request);
      }
      return {
        modelId: model.id,
        width: res.width,
        height: res.height,
        detections: res.detections.map((d) => ({
          label: d.label,
          classId: d.classId,
          score: round(d.score, 4),
          ...(d.box
            ? {
                box: [d.box.x1, d.box.y1, d.box.x2, d.box.y2].map((v) => round(v, 1)) as [
                  number,
                  number,
                  number,
                  number,
                ],
              }
            : {}),
        })),
        ...(res.timings
          ? {
              timings: {
                queueMs: round(res.timings.queueMs, 2),
                preprocessMs: round(res.timings.preprocessMs, 2),
                inferenceMs: round(res.timings.inferenceMs, 2),
                postprocessMs: round(res.timings.postprocessMs, 2),
              },
            }
          : {}),
      };
    },
  );
}
