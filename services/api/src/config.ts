import { baseConfigShape, natsConfigShape } from '@sie/service-kit';
import { z } from 'zod';

export const apiConfigSchema = z.strictObject({
  ...baseConfigShape(9100),
  ...natsConfigShape,
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest request body accepted before it is buffered. */
      bodyLimitBytes: z
        .number()
        .int()
        .positive()
        .default(1 << 20),
    })
    .prefault({}),
  databaseUrl: z.string().min(1).default('postgres://postgres:postgres@127.0.0.1:55432/sie'),
  detections: z
    .strictObject({
      /** Most detection messages per second one SSE client receives (the rest are skipped). */
      sseMaxRatePerSec: z.number().positive().max(1000).default(10),
      /** Runs whose latest detections are kept for `?latest`. */
      latestCacheRuns: z.number().int().positive().default(1000),
    })
    .prefault({}),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

export const API_ENV_ALIASES = { DATABASE_URL: 'databaseUrl', SIE_API_PORT: 'http.port' };
