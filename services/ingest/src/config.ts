import { FRAME_STORE_ACCESS, defaultFrameStoreDir } from '@sie/framestore';
import {
  baseConfigShape,
  loadServiceConfig,
  natsConfigShape,
  type ServiceConfigOptions,
} from '@sie/service-kit';
import { z } from 'zod';

const ms = () => z.number().int().positive();

/** Retry policy of a run's source; a run's PipelineSpec.retry overrides it field by field. */
export const retryConfigShape = {
  /** Tries to open a source before the run fails with `source_unreachable`. */
  startupAttempts: z.number().int().min(1).max(1000).default(3),
  /** Tries to get a lost source back before the run fails with `source_lost`. */
  reconnectAttempts: z.number().int().min(0).max(1000).default(5),
  /** Pause between two attempts (the base of the exponential backoff). */
  intervalMs: z.number().int().min(0).default(2000),
  backoff: z.enum(['fixed', 'exponential']).default('fixed'),
  /** Longest pause of the exponential backoff. */
  maxIntervalMs: ms().default(30_000),
};

export const ingestConfigSchema = z.strictObject({
  ...baseConfigShape(9101),
  ...natsConfigShape,
  /** Directory of the per-run frame rings (shared memory on Linux). */
  frameStoreDir: z.string().min(1).default(defaultFrameStoreDir()),
  /**
   * How frame rings are read and written: `mmap` maps them (no syscall per frame; readers use
   * the slot in place), `read` uses pread/pwrite, `auto` maps where the optional native module
   * is installed and the CPU orders plain stores (x86-64), else reads.
   */
  frameStoreAccess: z.enum(FRAME_STORE_ACCESS).default('auto'),
  /** Slots per run ring: how many frames readers may lag behind the newest one. */
  frameStoreSlots: z.number().int().min(2).max(256).default(8),
  inference: z
    .strictObject({
      /** host:port of the inference gRPC service. */
      url: z.string().min(1).default('127.0.0.1:50051'),
      /** Deadline of one Detect call. */
      timeoutMs: ms().default(5000),
    })
    .prefault({}),
  /** Runs this node's ingest accepts at once; more are refused with `unavailable`. */
  maxRuns: z.number().int().min(0).max(10_000).default(8),
  /**
   * Frames per second this node can process across all its runs, as measured by `pnpm bench` on
   * the machine (docs/benchmarks.md: the saturation point). Announced to schedulers, which place
   * no run whose expected rate would take the node past it (admission control); 0 (the default,
   * since only a measurement on the machine gives the figure) turns it off.
   */
  capacityFps: z.number().min(0).max(100_000).default(0),
  heartbeatIntervalMs: ms().default(1000),
  /** When set, file sources must lie under this directory. */
  mediaRoot: z.string().min(1).optional(),
  /** Lets runs open local capture devices (`v4l2:///dev/video0`, or `0`); off by default. */
  allowDevices: z.boolean().default(false),
  retry: z.strictObject(retryConfigShape).prefault({}),
  /** Longest time an ffprobe of a source may take. */
  probeTimeoutMs: ms().default(10_000),
  /**
   * A source that delivers no frame for this long is lost (the frame-arrival watchdog); it also
   * bounds the wait for the first frame and is the RTSP socket timeout.
   */
  stallTimeoutMs: ms().default(10_000),
  /** ffmpeg gets SIGKILL this long after SIGTERM. */
  killGraceMs: ms().default(2000),
  /**
   * ffmpeg also letterboxes every frame to the run's model input (a second ring next to the
   * output-size one), so inference only converts the layout instead of resampling in JS. Off:
   * inference letterboxes the output-size frame itself (same boxes, more CPU).
   */
  letterboxInDecoder: z.boolean().default(true),
  /** Decoder threads per run; 0 lets ffmpeg choose. */
  decodeThreads: z.number().int().min(0).max(64).default(0),
});

export type IngestConfig = z.output<typeof ingestConfigSchema>;
export type RetryConfig = IngestConfig['retry'];

/** Well-known variables of this service (besides the ones every service reads). */
export const INGEST_ENV_ALIASES: Record<string, string> = {
  SIE_INFERENCE_URL: 'inference.url',
};

/** This service's config as its process loads it (main.ts, and the deployment checks). */
export function loadIngestConfig(options: ServiceConfigOptions = {}): IngestConfig {
  return loadServiceConfig(ingestConfigSchema, INGEST_ENV_ALIASES, options);
}
