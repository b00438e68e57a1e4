import { FRAME_STORE_ACCESS, defaultFrameStoreDir } from '@sie/framestore';
import {
  baseConfigShape,
  loadServiceConfig,
  natsConfigShape,
  type ServiceConfigOptions,
} from '@sie/service-kit';
import { z } from 'zod';

const ms = () => z.number().int().positive();

export const renderConfigSchema = z.strictObject({
  ...baseConfigShape(9105),
  ...natsConfigShape,
  heartbeatIntervalMs: z.number().int().min(50).default(1000),
  maxRuns: z.number().int().positive().default(32),
  /** Directory of the per-run frame rings (shared memory on Linux), as ingest writes them. */
  frameStoreDir: z.string().min(1).default(defaultFrameStoreDir()),
  /**
   * How frame rings are read and written: `mmap` maps them (no syscall per frame; readers use
   * the slot in place), `read` uses pread/pwrite, `auto` maps where the optional native module
   * is installed and the CPU orders plain stores (x86-64), else reads.
   */
  frameStoreAccess: z.enum(FRAME_STORE_ACCESS).default('auto'),
  /**
   * RTSP server the annotated outputs are published to (ANNOUNCE/RECORD): the built-in one by
   * default, or any external server such as MediaMTX. A run publishes to `<url>/<outputPath>`.
   */
  rtspPublishUrl: z.string().default('rtsp://127.0.0.1:8554'),
  rtspTransport: z.enum(['tcp', 'udp']).default('tcp'),
  /** `h264_nvenc` needs an NVIDIA GPU and an ffmpeg built with NVENC. */
  encoder: z.enum(['libx264', 'h264_nvenc']).default('libx264'),
  /** Output frame rate when the pipeline sets neither `outputFps` nor `sampleFps`. */
  defaultFps: z.number().positive().max(120).default(10),
  /** Keyframe interval in seconds (GOP = fps × this, at most 2 s). */
  gopSeconds: z.number().positive().max(2).default(1),
  /** Target bitrate; 0 lets the encoder pick by quality. */
  bitrateKbps: z.number().int().min(0).default(0),
  /** No frame for this long: the output shows the "source reconnecting" slate. */
  slateAfterMs: ms().default(2000),
  /** Output size when the pipeline sets none and no frame has arrived yet (the slate's size). */
  fallbackWidth: z.number().int().positive().max(8192).default(1280),
  fallbackHeight: z.number().int().positive().max(8192).default(720),
  style: z
    .strictObject({
      boxThickness: z.number().int().min(1).max(32).default(2),
      lineThickness: z.number().int().min(1).max(32).default(2),
      fontScale: z.number().int().min(1).max(8).default(1),
    })
    .prefault({}),
  encoderRestart: z
    .strictObject({
      /** First pause before restarting a dead ffmpeg; doubles up to `maxMs`. */
      initialMs: ms().default(500),
      maxMs: ms().default(10_000),
    })
    .prefault({}),
  /** ffmpeg gets SIGKILL this long after its stdin closed on stop. */
  killGraceMs: ms().default(2000),
  /**
   * Event snapshots: `<snapshotDir>/<tenant>/<run>/<eventId>.jpg`. The API reads the same
   * directory (its `snapshotDir`), so both default to the same path on one node.
   */
  snapshotDir: z.string().min(1).default('.data/snapshots'),
  snapshots: z
    .strictObject({
      /** Retention (count and age of each run's snapshots) is also enforced this often. */
      sweepIntervalMs: ms().default(60_000),
      /** How long a snapshot waits for the overlay of its event's frame. */
      overlayWaitMs: ms().default(2000),
    })
    .prefault({}),
  capture: z
    .strictObject({
      /** Local capture directories of pipelines must lie under this root (the API checks too). */
      rootDir: z.string().min(1).default('.data/capture'),
      /** Sampled frames waiting for their writes per run; more are skipped (and counted). */
      maxPending: z.number().int().positive().max(1000).default(8),
    })
    .prefault({}),
  /** JPEG encoders (ffmpeg processes) running at once for snapshots and capture. */
  jpegConcurrency: z.number().int().positive().max(16).default(2),
  preview: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(9106),
      /** JPEG frames per second sent to browsers. */
      fps: z.number().positive().max(30).default(5),
      /** mjpeg quality, 2 (best) to 31. */
      quality: z.number().int().min(2).max(31).default(7),
      /** Viewers per run; more get 503. */
      maxClients: z.number().int().positive().max(1000).default(8),
    })
    .prefault({}),
});

export type RenderConfig = z.infer<typeof renderConfigSchema>;

/** This service's config as its process loads it (main.ts, and the deployment checks). */
export function loadRenderConfig(options: ServiceConfigOptions = {}): RenderConfig {
  return loadServiceConfig(renderConfigSchema, undefined, options);
}
