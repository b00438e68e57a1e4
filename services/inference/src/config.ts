import { availableParallelism } from 'node:os';
import { FRAME_STORE_ACCESS, defaultFrameStoreDir } from '@sie/framestore';
import {
  baseConfigShape,
  loadServiceConfig,
  natsConfigShape,
  type ServiceConfigOptions,
} from '@sie/service-kit';
import { z } from 'zod';
import { batchingConfigSchema, modelConfigSchema } from './models/spec.js';

export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_OPS_PORT = 9102;

/** Every key has a default; env names follow the path (`grpc.port` → `SIE_GRPC__PORT`). */
export const inferenceConfigSchema = z.strictObject({
  ...baseConfigShape(DEFAULT_OPS_PORT),
  // Only for trace keeps (frames that raised an event elsewhere), and only when tracing exports.
  ...natsConfigShape,
  grpc: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(DEFAULT_GRPC_PORT),
      /** Largest request or response; encoded images travel inside requests. */
      maxMessageBytes: z
        .number()
        .int()
        .min(1 << 16)
        .default(32 << 20),
      /** How long a shutdown waits for in-flight calls (open streams included) before cutting them. */
      shutdownGraceMs: z.number().int().min(0).default(5000),
    })
    .prefault({}),
  /** Directory of the frame store rings that FrameRefs point into. */
  frameStoreDir: z.string().min(1).default(defaultFrameStoreDir),
  /**
   * How frame rings are read and written: `mmap` maps them (no syscall per frame; readers use
   * the slot in place), `read` uses pread/pwrite, `auto` maps where the optional native module
   * is installed and the CPU orders plain stores (x86-64), else reads.
   */
  frameStoreAccess: z.enum(FRAME_STORE_ACCESS).default('auto'),
  workers: z
    .strictObject({
      /**
       * Inference threads; each holds one ONNX Runtime session per model. Default: one per core,
       * each with one intra-op thread, so workers × intraOpThreads = cores: a thread per core, no
       * oversubscription, and parallelism across requests (and batches) rather than inside one.
       */
      count: z
        .number()
        .int()
        .min(1)
        .max(256)
        .default(() => availableParallelism()),
      /** ONNX Runtime intra-op threads per session. */
      intraOpThreads: z.number().int().min(1).max(256).default(1),
      /** Jobs waiting for a worker beyond this are refused (unavailable) rather than queued. */
      queueLimit: z.number().int().min(1).default(64),
    })
    .prefault({}),
  /** Dynamic batching of every model with a dynamic batch dim; a model's own `batching` wins. */
  batching: batchingConfigSchema.prefault({}),
  executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
  /** With `cuda`: load on the CPU (and log why) when CUDA cannot be used; false fails the load. */
  cpuFallback: z.boolean().default(true),
  /** Largest encoded image accepted by Detect, in pixels (width × height). */
  maxImagePixels: z.number().int().positive().default(40_000_000),
  /** Models loaded at startup; `SIE_MODELS` takes the same array as JSON. */
  models: z.array(modelConfigSchema).default([]),
});

export type InferenceConfig = z.output<typeof inferenceConfigSchema>;

/** This service's config as its process loads it (main.ts, and the deployment checks). */
export function loadInferenceConfig(options: ServiceConfigOptions = {}): InferenceConfig {
  return loadServiceConfig(inferenceConfigSchema, undefined, options);
}
