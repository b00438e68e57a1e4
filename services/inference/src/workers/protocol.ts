import type { FrameRef } from '@sie/contracts';
import type { FrameStoreAccess } from '@sie/framestore';
import type { ErrorPayload } from '@sie/errors';
import type { RawDetection } from '../decoders/types.js';
import type { ModelIo } from '../models/model-io.js';
import type { ModelConfig } from '../models/spec.js';
import type { PixelImage } from '../preprocess/letterbox.js';

/** Messages between the pool (main thread) and an inference worker thread. */

export interface WorkerInit {
  frameStoreDir: string;
  frameStoreAccess: FrameStoreAccess;
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  cpuFallback: boolean;
}

export type JobInput =
  /** The worker reads the pixels from the frame store itself: no copy through the main thread. */
  { kind: 'frame'; ref: FrameRef } | { kind: 'pixels'; image: PixelImage };

export interface DetectJob {
  /** The registry's key of the model generation to run (`id#generation`). */
  modelKey: string;
  modelId: string;
  input: JobInput;
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
  /** Class ids to keep; null keeps all. */
  classIds: number[] | null;
}

export interface JobTimings {
  readMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export interface DetectResult {
  detections: RawDetection[];
  width: number;
  height: number;
  timings: JobTimings;
  /** Images in the session.run that served this one (1 without batching). */
  batchSize: number;
}

/** One job's part of a batch: its result, or why it alone failed (e.g. its frame was overwritten). */
export type JobOutcome = { ok: true; result: DetectResult } | { ok: false; error: ErrorPayload };

export type ToWorker =
  /** `maxBatch`: the largest batch the pool will send; the worker answers what the model allows. */
  | { type: 'load'; id: number; key: string; config: ModelConfig; maxBatch: number }
  | { type: 'unload'; key: string }
  /** Jobs of one model, run as one batch. */
  | { type: 'detect'; id: number; jobs: DetectJob[] };

export type FromWorker =
  | { type: 'loaded'; id: number; io: ModelIo; warning: string | null; maxBatch: number }
  | { type: 'result'; id: number; outcomes: JobOutcome[] }
  | { type: 'failed'; id: number; error: ErrorPayload };
