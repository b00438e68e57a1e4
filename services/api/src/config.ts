import { isAbsolute, join, resolve } from 'node:path';
import { idSchema } from '@sie/pipeline';
import {
  baseConfigShape,
  loadServiceConfig,
  natsConfigShape,
  type ServiceConfigOptions,
} from '@sie/service-kit';
import { z } from 'zod';

const ms = () => z.number().int().positive();
const MiB = 1 << 20;

export const apiConfigSchema = z.strictObject({
  ...baseConfigShape(9100),
  ...natsConfigShape,
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest JSON request body accepted; larger ones are refused before they are buffered. */
      bodyLimitBytes: z.number().int().positive().default(MiB),
    })
    .prefault({}),
  databaseUrl: z.string().min(1).default('postgres://postgres:postgres@127.0.0.1:55432/sie'),
  /** Where the service keeps its files (relative paths resolve against the working directory). */
  dataDir: z.string().min(1).default('.data'),
  models: z
    .strictObject({
      /** Content-addressed model files (`<sha256>.onnx`); empty means `<dataDir>/models`. */
      storeDir: z.string().default(''),
      /** Largest ONNX upload; a larger one is refused (413) and nothing of it is kept. */
      maxUploadBytes: z
        .number()
        .int()
        .positive()
        .default(512 * MiB),
      /** Longest time ONNX Runtime may take to open an uploaded model for validation. */
      validateTimeoutMs: ms().default(60_000),
    })
    .prefault({}),
  inference: z
    .strictObject({
      /** host:port of the inference gRPC service (predict, model loading). */
      url: z.string().min(1).default('127.0.0.1:50051'),
      /** Deadline of a Detect call made by predict. */
      timeoutMs: ms().default(10_000),
      /** Deadline of LoadModel / UnloadModel. */
      loadTimeoutMs: ms().default(60_000),
    })
    .prefault({}),
  tenants: z
    .strictObject({
      /** Tenant of requests without an `x-sie-tenant` header; created on first use. */
      default: idSchema.default('default'),
    })
    .prefault({}),
  /**
   * Event snapshots written by the render service (`<dir>/<tenant>/<run>/<eventId>.jpg`), served
   * by GET /v1/runs/:id/events/:eventId/snapshot; the render service's `snapshotDir`.
   */
  snapshotDir: z.string().min(1).default('.data/snapshots'),
  capture: z
    .strictObject({
      /** A pipeline's local capture directory must lie under this root (render checks again). */
      rootDir: z.string().min(1).default('.data/capture'),
    })
    .prefault({}),
  /** When set, file sources must lie under this directory. */
  mediaRoot: z.string().min(1).optional(),
  /** Accepts V4L2 capture devices as sources (probe and runs); each node has its own switch too. */
  allowDevices: z.boolean().default(false),
  /** GET /v1/sources/discover (WS-Discovery of ONVIF cameras). */
  discovery: z
    .strictObject({
      /** Where the Probe goes: WS-Discovery's multicast group, or one host:port (unicast). */
      target: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
        .default('239.255.255.250:3702'),
      /** How long answers are collected when the request does not say. */
      timeoutMs: ms().max(30_000).default(3000),
    })
    .prefault({}),
  /** Longest time POST /v1/sources/probe waits for ffprobe. */
  probeTimeoutMs: ms().default(10_000),
  predict: z
    .strictObject({
      /** Largest image accepted by POST /v1/predict. */
      maxImageBytes: z
        .number()
        .int()
        .positive()
        .default(20 * MiB),
    })
    .prefault({}),
  rtsp: z
    .strictObject({
      /** Base of the output URLs shown to clients (`<base>/<output path>`). */
      publicBaseUrl: z
        .string()
        .regex(/^rtsps?:\/\/[^\s]+$/, 'an rtsp:// or rtsps:// URL')
        .default('rtsp://127.0.0.1:8554'),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      /** Serve the operator dashboard at `/` and `/dashboard/`. */
      enabled: z.boolean().default(true),
      /**
       * Base of the render service's MJPEG preview as browsers reach it (`<base>/runs/<id>/
       * preview.mjpeg`, render's `preview.port`); runs show it as `output.previewUrl`, and the
       * dashboard's CSP allows images from its origin. Empty: no preview URL.
       */
      previewBaseUrl: z
        .string()
        .regex(/^(https?:\/\/[^\s/?#]+(\/[^\s?#]*)?)?$/, 'an http:// or https:// URL, or empty')
        .default('http://127.0.0.1:9106'),
    })
    .prefault({}),
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

export const API_ENV_ALIASES = {
  DATABASE_URL: 'databaseUrl',
  SIE_API_PORT: 'http.port',
  SIE_INFERENCE_URL: 'inference.url',
};

/** The absolute directory model files are stored in (the inference service opens them there). */
export function modelStoreDir(config: Pick<ApiConfig, 'dataDir' | 'models'>): string {
  const dir = config.models.storeDir || join(config.dataDir, 'models');
  return isAbsolute(dir) ? dir : resolve(dir);
}

/** This service's config as its process loads it (main.ts, and the deployment checks). */
export function loadApiConfig(options: ServiceConfigOptions = {}): ApiConfig {
  return loadServiceConfig(apiConfigSchema, API_ENV_ALIASES, options);
}
