import { RUN_STATUSES } from '@sie/db';
import { idSchema, runOutputSchema, runSourceSchema } from '@sie/pipeline';
import { z } from 'zod';

export const createRunSchema = z.strictObject({
  pipelineId: idSchema,
  source: runSourceSchema,
  output: runOutputSchema.prefault({}),
});

export const MAX_PAGE = 200;

export const listRunsQuerySchema = z.strictObject({
  /** One status or several, comma-separated. */
  status: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(RUN_STATUSES)))
    .optional()
    .describe(`One status or several, comma-separated: ${RUN_STATUSES.join(', ')}`),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE)
    .default(50)
    .describe(`Runs per page (at most ${MAX_PAGE})`),
  /** `nextCursor` of the previous page. */
  cursor: idSchema.optional().describe('nextCursor of the previous page'),
});

/** Where the annotated output is: RTSP for players, the MJPEG preview for browsers. */
const outputJsonSchema = z.object({
  path: z.string(),
  rtspUrl: z.string(),
  /** The render service's browser preview (`dashboard.previewBaseUrl`); null when not configured. */
  previewUrl: z.string().nullable(),
});

const reasonSchema = z.object({ code: z.string(), message: z.string() });

export const runJsonSchema = z.object({
  id: z.string(),
  pipelineId: z.string(),
  pipelineVersion: z.number().int(),
  status: z.enum(RUN_STATUSES),
  /** What the client asked for: `running` until a stop. */
  desiredState: z.enum(['running', 'stopped']),
  /** Why the run is in its state (always set for `failed`). */
  reason: reasonSchema.nullable(),
  source: z.object({
    /** Credentials in the URL are masked. */
    url: z.string(),
    loop: z.boolean(),
    realtime: z.boolean(),
    rtspTransport: z.enum(['tcp', 'udp']),
  }),
  output: outputJsonSchema,
  nodeId: z.string().nullable(),
  attempts: z.number().int(),
  restarts: z.number().int(),
  /** Lease generation: bumped every time a scheduler (re)places the run. */
  generation: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});

/** `GET /v1/runs/:id`: the run plus its live figures (null when nothing came from it lately). */
export const runDetailJsonSchema = runJsonSchema.extend({
  live: z
    .object({
      /** Frames decoded per second (ingest). */
      fpsIn: z.number(),
      /** Frames published with their detections per second (ingest). */
      fpsOut: z.number(),
      /** Capture → detections published over the last 200 frames. */
      latencyMs: z.object({ p50: z.number(), p99: z.number() }),
      /** Frames dropped by ingest since it (re)started the run. */
      dropped: z.number().int(),
      updatedAt: z.string(),
    })
    .nullable(),
});

export const runListJsonSchema = z.object({
  /** Each with its live figures, as `GET /v1/runs/:id` (a dashboard polls one list). */
  items: z.array(runDetailJsonSchema),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});

export const runCreatedJsonSchema = z.object({
  id: z.string(),
  status: z.enum(RUN_STATUSES),
  output: outputJsonSchema,
});

export const transitionJsonSchema = z.object({
  id: z.number().int(),
  from: z.enum(RUN_STATUSES).nullable(),
  to: z.enum(RUN_STATUSES),
  reason: reasonSchema.nullable(),
  at: z.string(),
  generation: z.number().int(),
  /** `api`, `scheduler:<id>`, … */
  actor: z.string(),
});

export const transitionListJsonSchema = z.object({ items: z.array(transitionJsonSchema) });

export const stopJsonSchema = z.object({
  id: z.string(),
  status: z.enum(RUN_STATUSES),
  desiredState: z.enum(['running', 'stopped']),
});
