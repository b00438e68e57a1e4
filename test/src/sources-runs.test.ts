/**
 * Runs on HTTP sources with real processes (ingest + inference with YOLOX): HLS and MJPEG from a
 * local web server, a server that goes away and comes back (the run reconnects and stays
 * active), and capture devices refused on a node that does not allow them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StageEventKind } from '@sie/contracts';
import { findFreePort } from '@sie/infra';
import { asset } from './support/env.js';
import { makeHttpFixtures, startHttpMedia, type HttpMedia } from './support/http-media.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { RunWatch } from './support/run-watch.js';
import { startRun, stopRun } from './support/runs.js';

const { STAGE_EVENT_KIND_STARTED: STARTED, STAGE_EVENT_KIND_FAILED: FAILED } = StageEventKind;
const { STAGE_EVENT_KIND_RECONNECTING: RECONNECTING } = StageEventKind;

let node: NodeStack;
let http: HttpMedia;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sie-sources-runs-'));
  const www = join(work, 'www');
  mkdirSync(www);
  const vtest = asset('media/vtest.avi');
  makeHttpFixtures(www, vtest);
  http = await startHttpMedia(www, vtest);
  node = await startNodeStack('sources', { env: { SIE_STALL_TIMEOUT_MS: '4000' } });
});

after(async () => {
  await node?.stop();
  await http?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const retry = { startupAttempts: 3, reconnectAttempts: 30, intervalMs: 500 };

test(
  'an HLS playlist: the run starts and the model sees its frames at the playlist size',
  { timeout: 120_000 },
  async () => {
    const runId = `hls-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: `${http.base}/index.m3u8`, realtime: true },
      retry,
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(STARTED, 60_000);
    await watch.until(
      () => (watch.detections.length >= 5 ? true : undefined),
      60_000,
      '5 detections',
    );
    assert.deepEqual(
      [watch.detections[0]?.frame?.width, watch.detections[0]?.frame?.height],
      [640, 480],
    );
    assert.ok(watch.detections.some((d) => d.detections.some((x) => x.label === 'person')));
    await stopRun(node.bus, node.nodeId, runId);
  },
);

test(
  'progressive MP4 over HTTP: the run decodes it at its own size',
  { timeout: 120_000 },
  async () => {
    const runId = `mp4-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: `${http.base}/clip.mp4`, realtime: false },
      retry: { startupAttempts: 2, reconnectAttempts: 0, intervalMs: 200 },
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(STARTED, 60_000);
    await watch.until(
      () => (watch.detections.length >= 20 ? true : undefined),
      90_000,
      '20 detections',
    );
    assert.deepEqual(
      [watch.detections[0]?.frame?.width, watch.detections[0]?.frame?.height],
      [320, 240],
    );
    await stopRun(node.bus, node.nodeId, runId);
  },
);

test(
  'MJPEG over HTTP: the server goes away and comes back, the run reconnects and stays active',
  { timeout: 180_000 },
  async () => {
    const runId = `mjpeg-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: `${http.base}/mjpeg`, realtime: true },
      retry,
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(STARTED, 60_000);
    await watch.until(
      () => (watch.detections.length >= 3 ? true : undefined),
      60_000,
      '3 detections',
    );
    assert.deepEqual(
      [watch.detections[0]?.frame?.width, watch.detections[0]?.frame?.height],
      [768, 576],
    );

    await http.stop();
    await watch.report(RECONNECTING, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    await http.start();
    await watch.until(
      () => (watch.reports.filter((r) => r.kind === STARTED).length >= 2 ? true : undefined),
      90_000,
      'STARTED again after the server came back',
    );
    const count = watch.detections.length;
    await watch.until(
      () => (watch.detections.length >= count + 3 ? true : undefined),
      60_000,
      'detections after reconnecting',
    );
    assert.equal(
      watch.reports.some((r) => r.kind === FAILED),
      false,
    );
    await stopRun(node.bus, node.nodeId, runId);
  },
);

test(
  'HTTP sources report source_unreachable and source_lost like any other source',
  { timeout: 120_000 },
  async () => {
    const deadId = `http-dead-${process.pid}`;
    const dead = new RunWatch(node.bus, deadId);
    const url = `http://127.0.0.1:${await findFreePort()}/nothing.mjpg`;
    const refused = await startRun(node.bus, node.nodeId, {
      runId: deadId,
      modelId: 'yolox',
      source: { url, realtime: true },
      retry: { startupAttempts: 2, reconnectAttempts: 0, intervalMs: 200 },
    });
    assert.equal(refused.accepted, true, refused.error?.message);
    const never = await dead.report(FAILED, 60_000);
    assert.equal(never.error?.code, 'source_unreachable');
    assert.match(never.error?.message ?? '', /did not start after 2 attempt\(s\)/);

    const lostId = `http-lost-${process.pid}`;
    const lost = new RunWatch(node.bus, lostId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId: lostId,
      modelId: 'yolox',
      source: { url: `${http.base}/mjpeg`, realtime: true },
      retry: { startupAttempts: 2, reconnectAttempts: 2, intervalMs: 300 },
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await lost.report(STARTED, 60_000);
    await http.stop();
    try {
      const gone = await lost.report(FAILED, 90_000);
      assert.equal(gone.error?.code, 'source_lost');
      assert.match(gone.error?.message ?? '', /was lost: .*2 reconnect attempt\(s\) failed/);
    } finally {
      await http.start();
    }
  },
);

test('a webcam URL is refused by a node that does not allow devices', async () => {
  for (const url of ['v4l2:///dev/video0', '0']) {
    const answer = await startRun(node.bus, node.nodeId, {
      runId: `cam-${process.pid}-${url.length}`,
      modelId: 'yolox',
      source: { url },
    });
    assert.equal(answer.accepted, false);
    assert.equal(answer.error?.code, 'source_invalid');
    assert.match(answer.error?.message ?? '', /capture devices are disabled on this node/);
  }
});
