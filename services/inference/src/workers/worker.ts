import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { PixelFormat } from '@sie/contracts';
import type { FrameRef } from '@sie/contracts';
import { FrameStoreError, InternalError, ModelNotFoundError, toErrorPayload } from '@sie/errors';
import { FrameStoreReaders } from '@sie/framestore';
import type { PixelImage } from '../preprocess/letterbox.js';
import { ModelRunner, type Prepared } from './model-runner.js';
import type { DetectJob, FromWorker, JobOutcome, ToWorker, WorkerInit } from './protocol.js';

// Entry of an inference worker thread: session.run blocks its thread, so it never runs on the
// main thread. Messages are handled one at a time, in order: a load or unload never races a run
// that uses the same input buffer or session.

const port = parentPort;
if (!port) throw new Error('worker.js runs only as a worker thread');
const init = workerData as WorkerInit;
const runners = new Map<string, ModelRunner>();
const readers = new FrameStoreReaders(init.frameStoreDir, init.frameStoreAccess);
// An open reader pins its ring's shared memory even after the run deletes the file: readers of
// rings unused for a while are closed.
const READER_IDLE_MS = 60_000;
const lastRead = new Map<string, number>();
let lastSweep = Date.now();
let chain: Promise<void> = Promise.resolve();

const post = (msg: FromWorker): void => port.postMessage(msg);

port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load':
      try {
        const runner = await ModelRunner.load(msg.config, init, msg.maxBatch);
        await runners.get(msg.key)?.release();
        runners.set(msg.key, runner);
        post({
          type: 'loaded',
          id: msg.id,
          io: runner.io,
          warning: runner.warning,
          maxBatch: runner.maxBatch,
        });
      } catch (err) {
        post({ type: 'failed', id: msg.id, error: toErrorPayload(err) });
      }
      return;
    case 'unload': {
      const runner = runners.get(msg.key);
      runners.delete(msg.key);
      await runner?.release().catch(() => undefined);
      return;
    }
    case 'detect':
      try {
        post({ type: 'result', id: msg.id, outcomes: await detectBatch(msg.jobs) });
      } catch (err) {
        post({ type: 'failed', id: msg.id, error: toErrorPayload(err) });
      }
      return;
  }
}

// Per-batch bookkeeping, reused: which job sits in which batch slot and what its slot needs.
const slotJob: number[] = [];
const slotPrep: Prepared[] = [];
const slotReadMs: number[] = [];

/**
 * Jobs of one model as one batch: each frame is read and letterboxed into its slot (a job whose
 * frame cannot be read fails alone), one session.run, then each slot's output is decoded.
 */
async function detectBatch(jobs: DetectJob[]): Promise<JobOutcome[]> {
  const first = jobs[0];
  if (!first) return [];
  const runner = runners.get(first.modelKey);
  if (!runner) throw new ModelNotFoundError(first.modelId);
  if (jobs.length > runner.maxBatch) {
    throw new InternalError(`batch of ${jobs.length} exceeds the model's ${runner.maxBatch}`);
  }
  const outcomes: JobOutcome[] = new Array<JobOutcome>(jobs.length);
  let count = 0;
  for (let j = 0; j < jobs.length; j++) {
    const job = jobs[j] as DetectJob;
    try {
      if (job.input.kind === 'frame') {
        prepareFromStore(job.input.ref, runner, count);
      } else {
        slotReadMs[count] = 0;
        slotPrep[count] = runner.prepare(count, job.input.image);
      }
      slotJob[count] = j;
      count++;
    } catch (err) {
      outcomes[j] = { ok: false, error: toErrorPayload(err) };
    }
  }
  if (count === 0) return outcomes;
  const { output, inferenceMs } = await runner.infer(count);
  try {
    for (let s = 0; s < count; s++) {
      const j = slotJob[s] as number;
      const job = jobs[j] as DetectJob;
      const prep = slotPrep[s] as Prepared;
      const t0 = performance.now();
      const detections = runner.decode(output, s, count, prep, job);
      outcomes[j] = {
        ok: true,
        result: {
          detections,
          width: prep.imageWidth,
          height: prep.imageHeight,
          batchSize: count,
          timings: {
            readMs: slotReadMs[s] as number,
            preprocessMs: prep.preprocessMs,
            inferenceMs,
            postprocessMs: performance.now() - t0,
          },
        },
      };
    }
  } finally {
    output.dispose();
  }
  return outcomes;
}

/**
 * Letterboxes a stored frame into batch slot `slot`, from the frame's model-size copy when ingest
 * made one that this model takes (only the layout is converted), else from the frame itself (no
 * copy, another letterbox, or a copy ring that is gone). The pixels are used in place where the
 * ring is mapped; a frame or copy overwritten before its slot was filled is the frame's drop.
 */
function prepareFromStore(ref: FrameRef, runner: ModelRunner, slot: number): void {
  const t0 = performance.now();
  const copyRef = modelCopyRef(ref, runner);
  if (copyRef) {
    try {
      slotPrep[slot] = withImage(copyRef, (copy) => {
        slotReadMs[slot] = performance.now() - t0;
        return runner.prepareLetterboxed(slot, copy, ref.width, ref.height);
      });
      return;
    } catch (err) {
      // Only an unreadable copy (its ring gone, a size that does not fit) falls back; an
      // overwritten copy (FrameOverwrittenError, not a FrameStoreError) is the frame's drop.
      if (!(err instanceof FrameStoreError)) throw err;
    }
  }
  slotPrep[slot] = withImage(ref, (image) => {
    slotReadMs[slot] = performance.now() - t0;
    return runner.prepare(slot, image);
  });
}

/** The reference of the frame's model-size copy, when there is one this model takes. */
function modelCopyRef(ref: FrameRef, runner: ModelRunner): FrameRef | null {
  const m = ref.modelFrame;
  if (!m || !m.store || !runner.takesModelFrame(m)) return null;
  if (m.byteLength !== m.width * m.height * 3) return null;
  return {
    ...ref,
    store: m.store,
    width: m.width,
    height: m.height,
    byteLength: m.byteLength,
    pixelFormat: m.pixelFormat,
    modelFrame: undefined,
  };
}

/**
 * Lends the referenced frame to `use` as an image: the slot itself where the ring is mapped,
 * else a copy in the readers' reused scratch buffer. Throws FrameOverwrittenError (discarding what
 * `use` computed) when the frame was overwritten before `use` returned.
 */
function withImage<T>(ref: FrameRef, use: (image: PixelImage) => T): T {
  const now = Date.now();
  lastRead.set(ref.store, now);
  if (now - lastSweep > READER_IDLE_MS) {
    lastSweep = now;
    for (const [store, at] of lastRead) {
      if (now - at > READER_IDLE_MS) {
        readers.release(store);
        lastRead.delete(store);
      }
    }
  }
  return readers.withFrame(ref, (data) => {
    const expected = ref.width * ref.height * 3;
    if (data.byteLength !== expected) {
      throw new FrameStoreError(
        `frame ${ref.seq} holds ${data.byteLength} bytes, ${ref.width}x${ref.height}x3 needs ${expected}`,
        ref.store,
      );
    }
    return use({
      data,
      width: ref.width,
      height: ref.height,
      order: ref.pixelFormat === PixelFormat.PIXEL_FORMAT_RGB24 ? 'rgb' : 'bgr',
    });
  });
}
