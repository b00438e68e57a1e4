/**
 * ONVIF cameras end to end with real processes: a test ONVIF device (a real SOAP peer with
 * WS-Security digest checking) names two profiles whose streams sie's RTSP server carries; the
 * node's ingest resolves them through ONVIF and the real YOLOX model sees the pedestrians.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StageEventKind } from '@sie/contracts';
import { probeSource } from '@sie/media';
import { startTestOnvifDevice, type TestOnvifDevice } from '@sie/onvif';
import { asset } from './support/env.js';
import { ffmpegSync } from './support/http-media.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { startTestCamera, type TestCamera } from './support/rtsp-camera.js';
import { RunWatch } from './support/run-watch.js';
import { startRun, stopRun } from './support/runs.js';

const { STAGE_EVENT_KIND_STARTED: STARTED, STAGE_EVENT_KIND_FAILED: FAILED } = StageEventKind;
const { STAGE_EVENT_KIND_RECONNECTING: RECONNECTING } = StageEventKind;

let node: NodeStack;
let main: TestCamera;
let sub: TestCamera;
let spare: TestCamera | undefined;
let device: TestOnvifDevice;
let work: string;

const profiles = () => [
  { token: 'main', name: 'MainStream', width: 768, height: 576, streamUri: main.url },
  { token: 'sub', name: 'SubStream', width: 320, height: 240, streamUri: sub.url },
];
const onvifUrl = (password: string, query = ''): string =>
  `onvif://admin:${password}@${device.host}:${device.port}/${query}`;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sie-sources-onvif-'));
  const small = join(work, 'small.mp4');
  ffmpegSync([
    '-i',
    asset('media/vtest.avi'),
    '-t',
    '20',
    '-an',
    '-vf',
    'scale=320:240',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    small,
  ]);
  [main, sub] = await Promise.all([
    startTestCamera(asset('media/vtest.avi'), 'main'),
    startTestCamera(small, 'sub'),
  ]);
  device = await startTestOnvifDevice({
    username: 'admin',
    password: 's3cret',
    profiles: profiles(),
  });
  node = await startNodeStack('onvif', { env: { SIE_STALL_TIMEOUT_MS: '4000' } });
});

after(async () => {
  await node?.stop();
  await device?.stop();
  await Promise.all([main?.stop(), sub?.stop(), spare?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const retry = { startupAttempts: 2, reconnectAttempts: 10, intervalMs: 500 };

test(
  'an ONVIF camera: the run resolves the first profile, starts and gets detections',
  { timeout: 120_000 },
  async () => {
    const runId = `onvif-main-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: onvifUrl('s3cret'), realtime: true },
      retry,
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(STARTED, 60_000);
    await watch.until(
      () => (watch.detections.length >= 5 ? true : undefined),
      60_000,
      '5 detections',
    );
    const frame = watch.detections[0]?.frame;
    assert.deepEqual([frame?.width, frame?.height], [768, 576]);
    assert.ok(
      watch.detections.some((d) => d.detections.some((x) => x.label === 'person')),
      'persons in the camera picture',
    );
    assert.ok(device.calls.includes('GetStreamUri'));
    await stopRun(node.bus, node.nodeId, runId);
  },
);

test(
  '?profile= picks the other stream (its own size); probe reports it with the resolved URI',
  { timeout: 120_000 },
  async () => {
    const runId = `onvif-sub-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: onvifUrl('s3cret', '?profile=sub'), realtime: true },
      retry,
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(STARTED, 60_000);
    await watch.until(
      () => (watch.detections.length >= 3 ? true : undefined),
      60_000,
      '3 detections',
    );
    const frame = watch.detections[0]?.frame;
    assert.deepEqual([frame?.width, frame?.height], [320, 240]);
    await stopRun(node.bus, node.nodeId, runId);

    const probed = await probeSource(onvifUrl('s3cret', '?profile=SubStream'), 30_000);
    assert.deepEqual([probed.codec, probed.width, probed.height], ['h264', 320, 240]);
    assert.equal(probed.resolvedUrl, sub.url.replace('rtsp://', 'rtsp://admin:***@'));
  },
);

test(
  'wrong ONVIF credentials: the run fails with source_unreachable and a clear reason',
  { timeout: 120_000 },
  async () => {
    const runId = `onvif-badpw-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: onvifUrl('not-the-password'), realtime: true },
      retry: { startupAttempts: 2, reconnectAttempts: 0, intervalMs: 200 },
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    const failed = await watch.report(FAILED, 60_000);
    assert.equal(failed.error?.code, 'source_unreachable');
    assert.match(failed.error?.message ?? '', /ONVIF authentication failed \(NotAuthorized\)/);
    assert.doesNotMatch(JSON.stringify(failed.error), /not-the-password/);
    await assert.rejects(
      probeSource(onvifUrl('not-the-password'), 10_000),
      /ONVIF authentication failed \(NotAuthorized\)/,
    );
  },
);

test(
  'the stream URI is resolved again on reconnect (the camera moved its stream)',
  { timeout: 180_000 },
  async () => {
    const runId = `onvif-move-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: onvifUrl('s3cret'), realtime: true },
      retry,
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.report(STARTED, 60_000);
    const uriCalls = (): number => device.calls.filter((c) => c === 'GetStreamUri').length;
    const before = uriCalls();
    // The camera "reboots" with its main stream at a new address; the old one is gone.
    spare = await startTestCamera(asset('media/vtest.avi'), 'moved');
    device.setProfiles([{ ...profiles()[0]!, streamUri: spare.url }, profiles()[1]!]);
    await main.stop();
    await watch.report(RECONNECTING, 60_000);
    await watch.until(
      () => (watch.reports.filter((r) => r.kind === STARTED).length >= 2 ? true : undefined),
      90_000,
      'a second STARTED',
    );
    assert.ok(uriCalls() > before, 'GetStreamUri was asked again');
    const count = watch.detections.length;
    await watch.until(
      () => (watch.detections.length >= count + 3 ? true : undefined),
      60_000,
      'detections after the move',
    );
    assert.equal(
      watch.reports.some((r) => r.kind === FAILED),
      false,
    );
    await stopRun(node.bus, node.nodeId, runId);
  },
);
