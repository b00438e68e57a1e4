/**
 * The first real slice, end to end with real processes: a video file goes through the ingest
 * service (ffmpeg decode → frame store), the inference service (ONNX Runtime, YOLOX-Nano) and
 * comes out as detections on NATS, each carrying a reference to its frame.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Bus } from '@sie/bus';
import { PixelFormat, StageEventKind, type FrameRef } from '@sie/contracts';
import { FrameOverwrittenError } from '@sie/errors';
import { FrameStoreReaders, storeNameForRun } from '@sie/framestore';
import { asset } from './support/env.js';
import { referenceFrameHashes } from './support/reference-frames.js';
import { RunWatch } from './support/run-watch.js';
import { startTestCamera } from './support/rtsp-camera.js';
import { startRun, stopRun } from './support/runs.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';

let node: NodeStack;
let bus: Bus;
let nodeId: string;
let frameDir: string;

before(async () => {
  node = await startNodeStack('slice');
  ({ bus, nodeId, frameDir } = node);
});

after(() => node?.stop());

test(
  'a run on vtest.avi: detections for every decoded frame, exact pixels by reference, persons found',
  { timeout: 180_000 },
  async () => {
    const video = asset('media/vtest.avi');
    const runId = `vtest-${process.pid}`;
    const readers = new FrameStoreReaders(frameDir);
    const hashes = new Map<number, string>();
    let firstRef: FrameRef | undefined;
    let lateRead: unknown;
    const watch = new RunWatch(bus, runId, (d) => {
      const ref = d.frame;
      if (!ref) return;
      // Read the pixels while the frame is fresh, as a downstream stage would.
      try {
        hashes.set(ref.seq, createHash('sha256').update(readers.read(ref)).digest('hex'));
      } catch {
        // Counted below as unreadable.
      }
      if (ref.seq === 1) firstRef = ref;
      if (ref.seq === 40 && firstRef) {
        try {
          readers.read(firstRef);
        } catch (err) {
          lateRead = err;
        }
      }
    });
    const reference = referenceFrameHashes(video, 768, 576);

    const answer = await startRun(bus, nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: video, realtime: false },
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(StageEventKind.STAGE_EVENT_KIND_STARTED, 30_000);
    await watch.report(StageEventKind.STAGE_EVENT_KIND_ENDED, 150_000);
    await bus.flush();
    const decoded = await reference;
    readers.closeAll();

    // Detections arrive for ≥ 95 % of decoded frames, in order, each with a valid frame reference.
    assert.equal(decoded.length, 795);
    const dets = watch.detections;
    assert.ok(
      dets.length >= 0.95 * decoded.length,
      `${dets.length} detections messages for ${decoded.length} frames`,
    );
    let lastSeq = 0;
    for (const d of dets) {
      const f = d.frame;
      assert.ok(f, 'detections without a frame reference');
      assert.ok(f.seq > lastSeq, `frame ${f.seq} after ${lastSeq}`);
      lastSeq = f.seq;
      assert.equal(f.runId, runId);
      assert.equal(f.store, storeNameForRun(runId, 1));
      assert.equal(f.width, 768);
      assert.equal(f.height, 576);
      assert.equal(f.pixelFormat, PixelFormat.PIXEL_FORMAT_BGR24);
      assert.equal(f.byteLength, 768 * 576 * 3);
      assert.ok(f.captureTimeMs > 0);
    }

    // The frame store hands readers exactly the bytes ffmpeg decoded.
    assert.ok(
      hashes.size >= 0.9 * dets.length,
      `only ${hashes.size} of ${dets.length} frames were readable`,
    );
    for (const [seq, hash] of hashes)
      assert.equal(hash, decoded[seq - 1], `frame ${seq} pixels differ`);

    // A reader of a slot that has since been overwritten is told so.
    assert.ok(
      lateRead instanceof FrameOverwrittenError,
      `reading frame 1 late gave ${String(lateRead)}`,
    );
    assert.equal(lateRead.wantedSeq, 1);

    // vtest.avi is a street full of pedestrians: persons in most frames, boxes inside the frame.
    const withPerson = dets.filter((d) =>
      d.detections.some((x) => x.label === 'person' && x.score >= 0.3),
    );
    assert.ok(
      withPerson.length >= 0.8 * dets.length,
      `persons in ${withPerson.length} of ${dets.length} frames`,
    );
    for (const d of withPerson.slice(0, 50)) {
      for (const x of d.detections) {
        const b = x.box;
        assert.ok(
          b && b.x1 >= 0 && b.y1 >= 0 && b.x2 <= 768 && b.y2 <= 576 && b.x2 > b.x1 && b.y2 > b.y1,
        );
      }
    }
  },
);

test(
  'a run on an RTSP camera: live detections by reference, then a clean stop',
  { timeout: 90_000 },
  async () => {
    const camera = await startTestCamera(asset('media/vtest.avi'));
    try {
      const runId = `rtsp-${process.pid}`;
      const watch = new RunWatch(bus, runId);
      const answer = await startRun(bus, nodeId, {
        runId,
        modelId: 'yolox',
        source: { url: camera.url, realtime: true },
      });
      assert.equal(answer.accepted, true, answer.error?.message);
      await watch.report(StageEventKind.STAGE_EVENT_KIND_STARTED, 30_000);
      await watch.until(
        () => (watch.detections.length >= 30 ? true : undefined),
        30_000,
        '30 frames of detections',
      );
      const dets = watch.detections.slice();
      for (const d of dets) {
        assert.equal(d.frame?.width, 768);
        assert.equal(d.frame?.height, 576);
        assert.equal(d.frame?.store, storeNameForRun(runId, 1));
      }
      const withPerson = dets.filter((d) => d.detections.some((x) => x.label === 'person'));
      assert.ok(
        withPerson.length >= 0.8 * dets.length,
        `persons in ${withPerson.length} of ${dets.length} frames`,
      );
      // A live source never builds latency: capture to detections stays well under a second.
      const latencies = dets.map((d) => d.latencyMs).sort((a, b) => a - b);
      assert.ok(
        (latencies[Math.floor(latencies.length / 2)] ?? Infinity) < 1000,
        `median latency ${latencies.join(',')}`,
      );
      const stopped = await stopRun(bus, nodeId, runId);
      assert.equal(stopped.stopped, true);
      await watch.report(StageEventKind.STAGE_EVENT_KIND_STOPPED, 10_000);
    } finally {
      await camera.stop();
    }
  },
);
