import { z } from 'zod';
import { captureSchema, snapshotsSchema } from './media-outputs.js';
import { checkRules } from './rules-check.js';

const ID = /^[A-Za-z0-9_-]{1,128}$/;
export const idSchema = z.string().regex(ID, 'letters, digits, _ and - only (1-128)');

/** A point in normalized frame coordinates (0–1), so a pipeline fits any output size. */
const point = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);

export const retryPolicySchema = z.strictObject({
  /** Tries to open a source before the run fails with source_unreachable. */
  startupAttempts: z.number().int().min(1).max(1000).default(3),
  /** Tries to reopen a lost source before the run fails with source_lost. */
  reconnectAttempts: z.number().int().min(0).max(100000).default(5),
  intervalMs: z.number().int().min(10).max(3_600_000).default(2000),
  /** fixed (as the seeds describe) or exponential with jitter. */
  backoff: z.enum(['fixed', 'exponential']).default('fixed'),
  maxIntervalMs: z.number().int().min(10).max(3_600_000).default(30_000),
});

export const zoneSchema = z.strictObject({
  id: idSchema,
  name: z.string().max(200).optional(),
  polygon: z.array(point).min(3).max(256),
});

export const lineSchema = z.strictObject({
  id: idSchema,
  name: z.string().max(200).optional(),
  a: point,
  b: point,
});

export const RULE_KINDS = [
  'zone_enter',
  'zone_exit',
  'dwell',
  'line_cross',
  'occupancy',
  'absence',
] as const;

/** Common rule fields; each kind's own parameters are checked by `checkRules` (rule-params.ts). */
export const ruleSchema = z.strictObject({
  id: idSchema,
  kind: z.enum(RULE_KINDS),
  zone: idSchema.optional(),
  line: idSchema.optional(),
  classes: z.array(z.string().min(1).max(100)).max(100).default([]),
  minScore: z.number().min(0).max(1).default(0),
  cooldownMs: z.number().int().min(0).max(86_400_000).default(0),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
});

export const styleSchema = z.strictObject({
  boxThickness: z.number().int().min(1).max(20).default(2),
  showLabels: z.boolean().default(true),
  showScores: z.boolean().default(true),
  showTrackIds: z.boolean().default(true),
  fontSizePx: z.number().int().min(6).max(96).default(14),
});

/** A pipeline: the per-client configuration a run executes (`pipelines.config` holds this). */
export const pipelineConfigSchema = z
  .strictObject({
    scoreThreshold: z.number().min(0).max(1).default(0.3),
    /** Class names to keep; empty keeps every class of the model. */
    classes: z.array(z.string().min(1).max(100)).max(1000).default([]),
    /** Frames per second processed; 0 processes every frame of the source. */
    sampleFps: z.number().min(0).max(240).default(0),
    /** Output (and processing) size; 0 keeps the source size. */
    outputWidth: z.number().int().min(0).max(7680).default(0),
    outputHeight: z.number().int().min(0).max(4320).default(0),
    outputFps: z.number().min(0).max(240).default(0),
    zones: z.array(zoneSchema).max(100).default([]),
    lines: z.array(lineSchema).max(100).default([]),
    rules: z.array(ruleSchema).max(200).default([]),
    style: styleSchema.prefault({}),
    retry: retryPolicySchema.prefault({}),
    /** A JPEG of the annotated frame of each event (off by default). */
    snapshots: snapshotsSchema.prefault({}),
    /** Sampled frames and detections written as a dataset (off by default). */
    capture: captureSchema.prefault({}),
  })
  // Cross-field checks (polygons, zone/line references, per-kind params), each with its own path.
  .superRefine(checkRules, { when: () => true });

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/**
 * The rules part of a pipeline as it travels to the rules stage (`PipelineSpec.rulesJson`), with
 * the same checks as a whole pipeline.
 */
export const pipelineRulesSchema = z
  .strictObject({
    zones: z.array(zoneSchema).max(100).default([]),
    lines: z.array(lineSchema).max(100).default([]),
    rules: z.array(ruleSchema).max(200).default([]),
    style: styleSchema.prefault({}),
  })
  .superRefine(checkRules, { when: () => true });

export type PipelineRules = z.infer<typeof pipelineRulesSchema>;
export type RetryPolicyConfig = z.infer<typeof retryPolicySchema>;

/** Where a run reads frames from. The ingest stage checks schemes and paths again on its node. */
export const runSourceSchema = z.strictObject({
  url: z.string().min(1).max(4096),
  /** File sources: start again at the end. */
  loop: z.boolean().default(false),
  /** File sources: pace at the file's frame rate, as a camera would. */
  realtime: z.boolean().default(true),
  rtspTransport: z.enum(['tcp', 'udp']).default('tcp'),
});

export type RunSource = z.infer<typeof runSourceSchema>;

export const runOutputSchema = z.strictObject({
  /** RTSP path of the annotated output; the run id when absent. */
  path: z
    .string()
    .regex(/^[A-Za-z0-9_-][A-Za-z0-9_./-]{0,199}$/, 'letters, digits, _ - . / only')
    .refine((p) => !p.split('/').includes('..'), 'no .. segments')
    .optional(),
});

export type RunOutput = z.infer<typeof runOutputSchema>;
