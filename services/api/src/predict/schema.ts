import { idSchema } from '@sie/pipeline';
import { z } from 'zod';

/** The text fields of a predict form (numbers and lists arrive as text). */
export const predictFieldsSchema = z.strictObject({
  modelId: idSchema,
  /** 0 or absent: the model's default. */
  scoreThreshold: z.coerce.number().min(0).max(1).optional(),
  /** Class names to keep: a JSON array or a comma-separated list; absent keeps all. */
  classes: z
    .string()
    .transform((s) => parseClassList(s))
    .pipe(z.array(z.string().min(1).max(200)).max(1000))
    .optional(),
});

function parseClassList(s: string): unknown {
  const t = s.trim();
  if (t.startsWith('[')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return t;
    }
  }
  return t === '' ? [] : t.split(',').map((c) => c.trim());
}

export const predictJsonSchema = z.object({
  modelId: z.string(),
  /** Size of the decoded image the boxes refer to. */
  width: z.number().int(),
  height: z.number().int(),
  detections: z.array(
    z.object({
      label: z.string(),
      classId: z.number().int(),
      score: z.number(),
      /** [x1, y1, x2, y2] in image pixels (absent for a classifier). */
      box: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
    }),
  ),
  timings: z
    .object({
      queueMs: z.number(),
      preprocessMs: z.number(),
      inferenceMs: z.number(),
      postprocessMs: z.number(),
    })
    .optional(),
});
