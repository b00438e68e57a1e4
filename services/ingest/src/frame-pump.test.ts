import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PixelFormat,
  type DetectResponse,
  type FrameDetections,
  type FrameRef,
} from '@sie/contracts';
import {
  FrameOverwrittenError,
  ModelNotFoundError,
  UnavailableError,
  type SieError,
} from '@sie/errors';
import { createLogger, createMetricsRegistry, trace } from '@sie/telemetry';
import type { DetectCall, Detector } from './detector.js';
import { FramePump, type FlowMode } from './frame-pump.js';
import { IngestMetrics } from './metrics.js';

const ref = (seq: number): FrameRef => ({
  runId: 'r1',
  seq,
  slot: (seq - 1) % 8,
  captureTimeMs: Date.now(),
  ptsMs: 0,
  width: 2,
  height: 2,
  pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
  store: 'run-r1',
  byteLength: 12,
  generation: 0,
});

/** A detector whose calls the test resolves or fails by hand. */
class ManualDetector implements Detector {
  readonly pending: {
    call: DetectCall;
    resolve(r: DetectResponse): void;
    reject(e: SieError): void;
  }[] = [];
  detect(call: DetectCall): Promise<DetectResponse> {
    return new Promise((resolve, reject) => this.pending.push({ call, resolve, reject }));
  }
  answer(): void {
    const p = this.pending.shift();
    p?.resolve({
      requestId: '',
      modelId: 'm',
      detections: [],
      width: 2,
      height: 2,
      timings: undefined,
      frame: p.call.frame,
      error: undefined,
    });
  }
  fail(err: SieError): void {
    this.pending.shift()?.reject(err);
  }
  modelInput(): Promise<null> {
    return Promise.resolve(null);
  }
  health(): string {
    return 'ok';
  }
  close(): void {}
}

function setup(mode: FlowMode) {
  const detector = new ManualDetector();
  const published: FrameDetections[] = [];
  const paused: boolean[] = [];
  const fatal: SieError[] = [];
  const metrics = new IngestMetrics(createMetricsRegistry('test')).forRun('r1');
  const pump = new FramePump({
    runId: 'r1',
    tenantId: 't1',
    modelId: 'm',
    scoreThreshold: 0.5,
    classes: [],
    mode,
    detector,
    publisher: { detections: (m) => published.push(m), report: () => {}, heartbeat: () => {} },
    metrics,
    tracer: trace.getTracer('test'),
    logger: createLogger({ service: 'test', level: 'silent' }),
    pauseSource: () => paused.push(true),
    resumeSource: () => paused.push(false),
    onFatal: (e) => fatal.push(e),
  });
  return { detector, published, paused, fatal, metrics, pump };
}

const tick = () => new Promise((r) => setImmediate(r));

test('latest-frame-wins: one call in flight, a newer frame replaces the waiting one', async () => {
  const { detector, published, metrics, pump, paused } = setup('latest');
  for (let seq = 1; seq <= 4; seq++) pump.offer(ref(seq));
  assert.equal(detector.pending.length, 1, 'one Detect in flight');
  assert.equal(metrics.dropsByReason.queue_full, 2, 'frames 2 and 3 were replaced');
  detector.answer();
  await tick();
  assert.equal(detector.pending[0]?.call.frame.seq, 4);
  detector.answer();
  await tick();
  assert.deepEqual(
    published.map((p) => p.frame?.seq),
    [1, 4],
  );
  assert.deepEqual(paused, [], 'a realtime source is never paused');
  await pump.idle();
});

test('every frame: the source pauses while a frame waits, nothing is dropped', async () => {
  const { detector, published, metrics, pump, paused } = setup('every');
  pump.offer(ref(1));
  pump.offer(ref(2));
  assert.deepEqual(paused, [true]);
  detector.answer();
  await tick();
  assert.deepEqual(paused, [true, false], 'resumed once frame 2 is in flight');
  assert.equal(detector.pending[0]?.call.frame.seq, 2);
  detector.answer();
  await tick();
  await pump.idle();
  assert.deepEqual(
    published.map((p) => p.frame?.seq),
    [1, 2],
  );
  assert.equal(metrics.framesDropped, 0);
});

test('Detect errors: overwritten and unavailable drop the frame, an unknown model is fatal', async () => {
  const { detector, metrics, pump, fatal, published } = setup('latest');
  pump.offer(ref(1));
  detector.fail(new FrameOverwrittenError('run-r1', 1, 9));
  await tick();
  pump.offer(ref(2));
  detector.fail(new UnavailableError('down'));
  await tick();
  assert.deepEqual(metrics.dropsByReason, {
    queue_full: 0,
    slot_overwritten: 1,
    inference_error: 1,
  });
  pump.offer(ref(3));
  detector.fail(new ModelNotFoundError('m'));
  await tick();
  assert.equal(fatal[0]?.code, 'model_error');
  pump.offer(ref(4));
  assert.equal(detector.pending.length, 0, 'a failed pump takes no more frames');
  assert.equal(published.length, 0);
});

test('a model that answered earlier frames and is gone (inference restarted) fails as unavailable', async () => {
  const { detector, pump, fatal, published } = setup('latest');
  pump.offer(ref(1));
  detector.answer();
  await tick();
  assert.equal(published.length, 1);
  pump.offer(ref(2));
  detector.fail(new ModelNotFoundError('m'));
  await tick();
  // Not model_error: the scheduler restarts the run, whose placement loads the model again.
  assert.equal(fatal[0]?.code, 'unavailable');
  assert.match(fatal[0]?.message ?? '', /no longer has model m/);
  pump.offer(ref(3));
  assert.equal(detector.pending.length, 0);
});
