import { z } from 'zod';

export const healthJsonSchema = z.object({
  service: z.string(),
  status: z.enum(['ok', 'unavailable']),
  uptimeMs: z.number(),
  /** Each dependency: 'ok' or why not. */
  checks: z.record(z.string(), z.string()),
  info: z.record(z.string(), z.unknown()).optional(),
});
