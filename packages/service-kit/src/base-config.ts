import { hostname } from 'node:os';
import { z } from 'zod';

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Keys every service shares; a service adds its own with `serviceConfigSchema`. */
export function baseConfigShape(defaultOpsPort: number) {
  return {
    /** The node this process belongs to (placement and control subjects use it). */
    nodeId: z
      .string()
      .regex(ID, 'letters, digits, _ and - only')
      .default(
        hostname()
          .replace(/[^A-Za-z0-9_-]/g, '-')
          .slice(0, 64) || 'node',
      ),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    ops: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(defaultOpsPort),
      })
      .prefault({}),
    tracing: z
      .strictObject({
        /** OTLP/HTTP traces endpoint; empty exports nothing. */
        otlpEndpoint: z.string().default(''),
        /** Share of frames traced, 0–1. */
        sampleRatio: z.number().min(0).max(1).default(0.01),
      })
      .prefault({}),
  };
}

export const natsConfigShape = {
  nats: z
    .strictObject({
      url: z.string().min(1).default('nats://127.0.0.1:4222'),
      reconnectTimeWaitMs: z.number().int().positive().default(500),
    })
    .prefault({}),
};

/** Well-known environment variables every service understands. */
export const BASE_ENV_ALIASES: Record<string, string> = {
  NATS_URL: 'nats.url',
  SIE_NODE_ID: 'nodeId',
  LOG_LEVEL: 'logLevel',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'tracing.otlpEndpoint',
};

export type BaseConfig = z.infer<z.ZodObject<ReturnType<typeof baseConfigShape>>>;
