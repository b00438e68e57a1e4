import { baseConfigShape, natsConfigShape } from '@sie/service-kit';
import { z } from 'zod';

export const rulesConfigSchema = z.strictObject({
  ...baseConfigShape(9104),
  ...natsConfigShape,
  /** Runs this node's rules service takes at most. */
  heartbeatIntervalMs: z.number().int().min(50).default(1000),
  maxRuns: z.number().int().positive().default(64),
});

export type RulesConfig = z.infer<typeof rulesConfigSchema>;
