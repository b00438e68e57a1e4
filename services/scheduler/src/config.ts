import { baseConfigShape, natsConfigShape } from '@sie/service-kit';
import { z } from 'zod';

export const schedulerConfigSchema = z.strictObject({
  ...baseConfigShape(9103),
  ...natsConfigShape,
  databaseUrl: z.string().min(1).default('postgres://postgres:postgres@127.0.0.1:55432/sie'),
  /** How often the runs table is polled. */
  pollIntervalMs: z.number().int().min(50).default(1000),
});

export type SchedulerConfig = z.infer<typeof schedulerConfigSchema>;

export const SCHEDULER_ENV_ALIASES = { DATABASE_URL: 'databaseUrl' };
