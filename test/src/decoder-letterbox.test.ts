/**
 * ffmpeg letterboxes each frame to the model input next to the output-size frame (issue: "a lean
 * frame path"): with real ingest, real inference (YOLOX-Nano) and real ffmpeg, every frame's
 * reference carries its model-size copy, inference uses it, and the boxes are those of the
 * engine's own letterbox (an ingest with the option off, on the same clip, is the reference).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StageEventKind, type Detection, type FrameDetections } from '@sie/contracts';
import { ringPath, storeNameForRun } from '@sie/framestore';
import { asset, natsUrl } from './support/env.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { RunWatch } from './support/run-watch.js';
import { startRun } from './support/runs.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

let node: NodeStack;
let plain: ServiceProcess;
let work: string;
let clip: string;
const plainNode = (): string => `${node.nodeId}-plain`;

before(async () => {
  node = await startNodeStack('letterbox');
  // The same node's inference and frame store, an ingest that leaves the letterbox to inference.
  plain = await startServiceProcess('ingest', {
    NATS_URL: natsUrl(),
    SIE_NODE_ID: plainNode(),
    SIE_FRAME_STORE_DIR: node.frameDir,
    SIE_INFERENCE_URL: node.grpcAddress,
    SIE_LETTERBOX_IN_DECODER: 'false',
  });
  work = mkdtempSync(join(tmpdir(), 'sie-letterbox-'));
  clip = join(work, 'street.mp4');
  execFileSync('ffmpeg', [
    ...['-nostdin', '-v', 'error', '-i', asset('media/vtest.avi'), '-frames:v', '60'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '10', clip],
  ]);
});

after(async () => {
  await plain?.stop();
  await node?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function iou(a: Detection, b: Detection): number {
  const p = a.box;
  const q = b.box;
  if (!p || !q) return 0;
  const w = Math.max(0, Math.min(p.x2, q.x2) - Math.max(p.x1, q.x1));
  const h = Math.max(0, Math.min(p.y2, q.y2) - Math.max(p.y1, q.y1));
  const inter = w * h;
  const area = (r: typeof p): number => (r.x2 - r.x1) * (r.y2 - r.y1);
  return inter / (area(p) + area(q) - inter);
}

async function runClip(nodeId: string, runId: string, onFirst?: () => void) {
  const watch = new RunWatch(node.bus, runId, (d) => {
    if (d.frame?.seq === 1) onFirst?.();
  });
  const answer = await startRun(node.bus, nodeId, {
    runId,
    modelId: 'yolox',
    source: { url: clip, realtime: false },
  });
  assert.equal(answer.accepted, true, answer.error?.message);
  await watch.report(StageEventKind.STAGE_EVENT_KIND_ENDED, 60_000);
  await node.bus.flush();
  return watch.detections;
}

test('frames carry a letterboxed model-size copy; inference uses it and finds the same people', async (t) => {
  const runId = `lbox-${process.pid}`;
  const copyStore = `${storeNameForRun(runId, 1)}-model`;
  let ringWhileRunning = false;
  const [withCopy, without] = await Promise.all([
    runClip(node.nodeId, runId, () => {
      ringWhileRunning = existsSync(ringPath(node.frameDir, copyStore));
    }),
    runClip(plainNode(), `plain-${process.pid}`),
  ]);
  assert.equal(withCopy.length, 60, 'every frame of the clip (read as fast as it goes)');
  assert.equal(without.length, 60);
  assert.ok(ringWhileRunning, 'the ring of model-size copies exists while the run goes');
  assert.ok(!existsSync(ringPath(node.frameDir, copyStore)), 'and is removed when it ends');
  for (const d of withCopy) {
    assert.deepEqual(
      d.frame?.modelFrame && { ...d.frame.modelFrame },
      {
        store: copyStore,
        width: 416,
        height: 416,
        byteLength: 416 * 416 * 3,
        pixelFormat: d.frame?.pixelFormat,
        placement: 'top-left',
        padValue: 114,
      },
      `frame ${d.frame?.seq}`,
    );
    // Boxes refer to the output frame, not to the 416 × 416 copy.
    for (const x of d.detections) assert.ok(x.box && x.box.x2 <= 768 && x.box.y2 <= 576);
  }
  for (const d of without) assert.equal(d.frame?.modelFrame, undefined);

  // The same people in the same places: ffmpeg's resampling is not the engine's bit for bit.
  const persons = (d: FrameDetections): Detection[] =>
    d.detections.filter((x) => x.label === 'person' && x.score >= 0.4);
  const reference = new Map(without.map((d) => [d.frame?.seq, persons(d)]));
  let matched = 0;
  let total = 0;
  for (const d of withCopy) {
    const ref = reference.get(d.frame?.seq) ?? [];
    const mine = persons(d);
    total += Math.max(ref.length, mine.length);
    for (const r of ref) if (mine.some((m) => iou(m, r) >= 0.7)) matched++;
  }
  assert.ok(total > 60, `people in the clip: ${total}`);
  assert.ok(matched >= 0.8 * total, `${matched} of ${total} persons found in the same place`);
  const mean = (ds: FrameDetections[]): number =>
    ds.reduce((s, d) => s + (d.timings?.preprocessMs ?? 0), 0) / ds.length;
  t.diagnostic(
    `inference preprocess per frame: ${mean(withCopy).toFixed(2)} ms with the copy, ` +
      `${mean(without).toFixed(2)} ms letterboxing in JS; ${matched}/${total} persons matched`,
  );
});
