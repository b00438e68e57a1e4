import { baseConfigShape, natsConfigShape } from '@sie/service-kit';
import { z } from 'zod';

export const renderConfigSchema = z.strictObject({
  ...baseConfigShape(9105),
  ...natsConfigShape,
  heartbeatIntervalMs: z.number().int().min(50).default(1000),
  maxRuns: z.number().int().positive().default(32),
  /** RTSP server the annotated outputs are published to. */
  rtspPublishUrl: z.string().default('rtsp://127.0.0.1:8554'),
});

export type RenderConfig = z.infer<typeof renderConfigSchema>;
