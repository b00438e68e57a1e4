import { z } from 'zod';

/** The body of every error response (documented once, referenced by every route). */
export const errorSchema = z.object({
  /** Stable code: invalid_argument, invalid_json, not_found, conflict, model_error, … */
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.string()).optional(),
  /** Every bad field of a rejected request, by dotted path. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
