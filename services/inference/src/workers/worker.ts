import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { PixelFormat } from '@sie/contracts';
import { FrameStoreError, ModelNotFoundError, toErrorPayload } from '@sie/errors';
import { FrameStoreReaders } from '@sie/framestore';
import type { PixelImage } from '../preprocess/letterbox.js';
import { ModelRunner } from './model-runner.js';
import type { DetectJob, DetectResult, FromWorker, ToWorker, WorkerInit } from './protocol.js';

// Entry of an inference worker thread: session.run blocks its thread, so it never runs on the
// main thread. Messages are handled one at a time, in order: a load or unload never races a run
// that uses the same input buffer or session.

const port = parentPort;
if (!port) throw new Error('worker.js runs only as a worker thread');
const init = workerData as WorkerInit;
const runners = new Map<string, ModelRunner>();
const readers = new FrameStoreReaders(init.frameStoreDir);
// Frame pixels are read into this buffer, grown to the largest frame seen and then reused.
let frameBuffer: Buffer = Buffer.alloc(0);
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
        const runner = await ModelRunner.load(msg.config, init);
        await runners.get(msg.key)?.release();
        runners.set(msg.key, runner);
        post({ type: 'loaded', id: msg.id, io: runner.io, warning: runner.warning });
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
        post({ type: 'result', id: msg.id, result: await detect(msg.job) });
      } catch (err) {
        post({ type: 'failed', id: msg.id, error: toErrorPayload(err) });
      }
      return;
  }
}

async function detect(job: DetectJob): Promise<DetectResult> {
  const runner = runners.get(job.modelKey);
  if (!runner) throw new ModelNotFoundError(job.modelId);
  const t0 = performance.now();
  const image = job.input.kind === 'frame' ? readFrame(job.input.ref) : job.input.image;
  const readMs = performance.now() - t0;
  const out = await runner.run(image, job);
  return {
    detections: out.detections,
    width: image.width,
    height: image.height,
    timings: {
      readMs,
      preprocessMs: out.preprocessMs,
      inferenceMs: out.inferenceMs,
      postprocessMs: out.postprocessMs,
    },
  };
}

function readFrame(ref: Extract<DetectJob['input'], { kind: 'frame' }>['ref']): PixelImage {
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
  const data = readers.read(ref, frameBuffer);
  if (data.buffer !== frameBuffer.buffer) frameBuffer = data;
  const expected = ref.width * ref.height * 3;
  if (data.byteLength !== expected) {
    throw new FrameStoreError(
      `frame ${ref.seq} holds ${data.byteLength} bytes, ${ref.width}x${ref.height}x3 needs ${expected}`,
      ref.store,
    );
  }
  return {
    data,
    width: ref.width,
    height: ref.height,
    order: ref.pixelFormat === PixelFormat.PIXEL_FORMAT_RGB24 ? 'rgb' : 'bgr',
  };
}
