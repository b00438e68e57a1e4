import { isAbsolute, normalize, relative, sep } from 'node:path';
import { z } from 'zod';

const DAY_MS = 86_400_000;

/**
 * A JPEG of the annotated frame of each rule event (the render service writes them, the API
 * serves them). Retention is by count and by age, whichever removes more.
 */
export const snapshotsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Newest snapshots kept per run; older ones are deleted as new ones are written. */
  maxCount: z.number().int().min(1).max(100_000).default(200),
  /** Snapshots older than this are deleted (on write and periodically). */
  maxAgeMs: z
    .number()
    .int()
    .min(1000)
    .max(366 * DAY_MS)
    .default(7 * DAY_MS),
  /** JPEG quality, 1 (smallest) to 100 (best); the service default when absent. */
  quality: z.number().int().min(1).max(100).optional(),
});

export type SnapshotsConfig = z.infer<typeof snapshotsSchema>;

/** An absolute directory without `..` segments (where it may lie is the node's decision). */
export const absoluteDirSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => isAbsolute(p), 'an absolute path')
  .refine((p) => !p.split(/[\\/]/).includes('..'), 'no .. segments')
  .refine((p) => !p.includes('\0'), 'no NUL bytes');

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const envNameSchema = z.string().regex(ENV_NAME, 'an environment variable name');

export const localDestinationSchema = z.strictObject({
  type: z.literal('local'),
  /** Absolute directory under the node's capture root (`capture.rootDir` of api and render). */
  dir: absoluteDirSchema,
});

export const s3DestinationSchema = z.strictObject({
  type: z.literal('s3'),
  /** http(s)://host[:port] of an S3-compatible service; objects go to `<endpoint>/<bucket>/<key>`. */
  endpoint: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^\s/?#]+\/?$/, 'http(s)://host[:port] with no path'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 of a-z 0-9 . -)'),
  /** Key prefix of every object ("datasets/door/"); empty puts them at the bucket's root. */
  prefix: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_.\-/]*$/, 'letters, digits, _ . - / only')
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'relative, no .. segments')
    .default(''),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'a region name')
    .default('us-east-1'),
  /** Names of the node's environment variables holding the credentials (never the secrets). */
  accessKeyIdEnv: envNameSchema,
  secretAccessKeyEnv: envNameSchema,
});

/** Where captured frames go: a union keyed on `type`, built into a destination by a factory. */
export const captureDestinationSchema = z.discriminatedUnion('type', [
  localDestinationSchema,
  s3DestinationSchema,
]);

export type CaptureDestinationConfig = z.infer<typeof captureDestinationSchema>;

/** Sampled raw frames and their detections written as a dataset (YOLO labels and a manifest). */
export const captureSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Keep one frame of every N processed frames. */
    everyNthFrame: z.number().int().min(1).max(1_000_000).optional(),
    /** Or: keep at most one frame per interval (of the frames' capture time). */
    intervalMs: z.number().int().min(1).max(DAY_MS).optional(),
    /** Skip sampled frames without any detection. */
    onlyWithDetections: z.boolean().default(false),
    /** Stop capturing after this many frames in a run. */
    maxFrames: z.number().int().min(1).max(10_000_000).optional(),
    /** JPEG quality of the images, 1-100. */
    quality: z.number().int().min(1).max(100).optional(),
    destination: captureDestinationSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.everyNthFrame !== undefined && c.intervalMs !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['intervalMs'],
        message: 'everyNthFrame or intervalMs, not both',
      });
    }
    if (!c.enabled) return;
    if (c.everyNthFrame === undefined && c.intervalMs === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['everyNthFrame'],
        message: 'everyNthFrame or intervalMs is required when capture is enabled',
      });
    }
    if (!c.destination) {
      ctx.addIssue({
        code: 'custom',
        path: ['destination'],
        message: 'a destination is required when capture is enabled',
      });
    }
  });

export type CaptureConfig = z.infer<typeof captureSchema>;

/**
 * Whether `dir` lies inside `root` (both absolute; `..` already refused by the schema). The node
 * decides where capture may write: a pipeline cannot point it at /etc or another tenant's data.
 */
export function isUnderRoot(dir: string, root: string): boolean {
  const rel = relative(normalize(root), normalize(dir));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(sep));
}
