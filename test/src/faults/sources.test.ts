/**
 * Sources that misbehave, while a control run on a healthy camera goes on untouched: a camera
 * dark for 5 s (reconnect, the run stays active), a camera gone for good (failed/source_lost
 * after the configured attempts), a file of random bytes and an RTSP peer that answers garbage
 * (refused with a clear reason), a file cut in half (played to its end, then ended cleanly),
 * and a camera whose resolution changes mid-stream (scaled to the run's frame size).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePort } from '@sie/infra';
import { asset } from '../support/env.js';
import { recordReliability } from '../support/reliability-log.js';
import { encodeH264 } from './cameras.js';
import { assertConsistent } from './consistency.js';
import { RunMonitor, type WatchedRun } from './monitor.js';
import { FaultStack } from './stack.js';

const FRAGILE = { startupAttempts: 2, reconnectAttempts: 2, intervalMs: 500 };
const STEADY = { startupAttempts: 5, reconnectAttempts: 30, intervalMs: 1000 };
const STALL_MS = 3000;

let stack: FaultStack;
let monitor: RunMonitor;
let steady: string;
let fragile: string;
let control: WatchedRun;
const servers: Server[] = [];

before(async () => {
  stack = new FaultStack({ env: { ingest: { SIE_STALL_TIMEOUT_MS: String(STALL_MS) } } });
  await stack.start();
  steady = await stack.createPipeline('steady', { retry: STEADY });
  fragile = await stack.createPipeline('fragile', { retry: FRAGILE });
  const url = await stack.cameras.publish('control', stack.video);
  control = {
    id: await stack.createRun(steady, { url }, 'src/control'),
    outputPath: 'src/control',
  };
  monitor = new RunMonitor(stack, [control]);
  await monitor.waitDelivering(Date.now(), 120_000);
});

after(async () => {
  for (const s of servers) s.close();
  await stack?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startWatched(pipelineId: string, source: Record<string, unknown>, path: string) {
  const run = { id: await stack.createRun(pipelineId, source, path), outputPath: path };
  monitor.watch(run.id);
  return run;
}

/** Waits for the run to end in `status`; fails early if it ends elsewhere. */
async function waitEnded(id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [run] = await stack.runs([id]);
    if (run && (run.status === 'failed' || run.status === 'inactive')) return run;
    if (Date.now() > deadline)
      throw new Error(`run ${id} still ${run?.status} after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** The control run (and any others given) still delivering, and no state out of place. */
async function othersUnaffected(others: WatchedRun[] = []): Promise<void> {
  const runs = [control, ...others];
  await monitor.waitDelivering(Date.now(), 30_000, runs);
  const [row] = await stack.runs([control.id]);
  assert.equal(row?.restarts, 0, 'the control run was restarted');
  await assertConsistent(
    stack,
    runs.map((r) => r.id),
  );
}

test(
  'a camera dark for 5 s: the run reconnects and stays active',
  { timeout: 120_000 },
  async (t) => {
    const url = await stack.cameras.publish('blink', stack.video);
    const run = await startWatched(steady, { url }, 'src/blink');
    await monitor.waitDelivering(Date.now(), 60_000, [run]);
    await stack.cameras.unpublish('blink');
    const darkAt = Date.now();
    const statuses = new Set<string>();
    const watchStatus = setInterval(() => {
      void stack.runs([run.id]).then(([r]) => r && statuses.add(r.status));
    }, 250);
    try {
      await sleep(5000);
      await stack.cameras.publish('blink', stack.video);
      const backAt = Date.now();
      const perRun = await monitor.waitDelivering(backAt, 60_000, [run]);
      const recoverMs = (perRun.get(run.id) ?? 0) + (backAt - darkAt);
      assert.deepEqual([...statuses], ['active'], `the run left active: ${[...statuses]}`);
      const [row] = await stack.runs([run.id]);
      assert.equal(row?.restarts, 0);
      await othersUnaffected([run]);
      t.diagnostic(
        `camera back after ${backAt - darkAt} ms → frames again ${recoverMs} ms after it went dark`,
      );
      recordReliability({
        suite: 'fault',
        name: 'camera stopped for 5 s, then back',
        outcome: 'recovered',
        recoverMs,
        dataLost: 'none',
        detail: `run stayed active throughout (reconnect policy ${STEADY.reconnectAttempts}×${STEADY.intervalMs} ms, stall ${STALL_MS} ms), no restart; frames resumed ${perRun.get(run.id)} ms after the camera returned; control run undisturbed`,
      });
    } finally {
      clearInterval(watchStatus);
    }
  },
);

test(
  'a camera gone for good: failed/source_lost after the configured attempts',
  { timeout: 120_000 },
  async (t) => {
    const url = await stack.cameras.publish('gone', stack.video);
    const run = await startWatched(fragile, { url }, 'src/gone');
    await monitor.waitDelivering(Date.now(), 60_000, [run]);
    await stack.cameras.unpublish('gone');
    const goneAt = Date.now();
    const ended = await waitEnded(run.id, 60_000);
    const tookMs = Date.now() - goneAt;
    assert.equal(ended.status, 'failed', `${ended.status}/${ended.reasonCode}`);
    assert.equal(ended.reasonCode, 'source_lost', ended.reasonMessage ?? '');
    assert.match(
      ended.reasonMessage ?? '',
      new RegExp(`${FRAGILE.reconnectAttempts} reconnect attempt`),
    );
    await othersUnaffected();
    await assertConsistent(stack, [run.id, control.id], [control.id]);
    t.diagnostic(`failed after ${tookMs} ms: ${ended.reasonMessage}`);
    recordReliability({
      suite: 'fault',
      name: 'camera stopped for good',
      outcome: 'failed-cleanly',
      recoverMs: tookMs,
      dataLost: 'none',
      detail: `failed/source_lost after ${FRAGILE.reconnectAttempts} reconnect attempts (${FRAGILE.intervalMs} ms apart): "${(ended.reasonMessage ?? '').slice(0, 160)}"; stages released the run; control run undisturbed`,
    });
  },
);

test('a file of random bytes is refused as not a video', { timeout: 90_000 }, async (t) => {
  const file = join(stack.scratch, 'garbage.mp4');
  writeFileSync(file, randomBytes(2 << 20));
  const started = Date.now();
  const run = await startWatched(fragile, { url: file, loop: false }, 'src/garbage');
  const ended = await waitEnded(run.id, 60_000);
  assert.equal(ended.status, 'failed');
  assert.equal(ended.reasonCode, 'source_unreachable', ended.reasonMessage ?? '');
  assert.match(ended.reasonMessage ?? '', /not a usable video|invalid|no decodable/i);
  await othersUnaffected();
  t.diagnostic(ended.reasonMessage ?? '');
  recordReliability({
    suite: 'input',
    name: 'source: file of random bytes',
    outcome: 'rejected',
    recoverMs: Date.now() - started,
    dataLost: 'none',
    detail: `failed/${ended.reasonCode}: "${(ended.reasonMessage ?? '').slice(0, 160)}"; control run undisturbed`,
  });
});

test(
  'an RTSP peer that answers garbage is refused as not a video',
  { timeout: 90_000 },
  async (t) => {
    const port = await findFreePort();
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(randomBytes(4096));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const started = Date.now();
    const run = await startWatched(fragile, { url: `rtsp://127.0.0.1:${port}/cam` }, 'src/noise');
    const ended = await waitEnded(run.id, 60_000);
    assert.equal(ended.status, 'failed');
    assert.equal(ended.reasonCode, 'source_unreachable', ended.reasonMessage ?? '');
    await othersUnaffected();
    t.diagnostic(ended.reasonMessage ?? '');
    recordReliability({
      suite: 'input',
      name: 'source: RTSP peer sending random bytes',
      outcome: 'rejected',
      recoverMs: Date.now() - started,
      dataLost: 'none',
      detail: `failed/${ended.reasonCode} at once, not retried (the peer is not an RTSP server): "${(ended.reasonMessage ?? '').slice(0, 160)}"; control run undisturbed`,
    });
  },
);

test(
  'a truncated file plays to where it was cut, then the run ends cleanly',
  { timeout: 120_000 },
  async (t) => {
    const original = asset('media/vtest.avi');
    const half = Math.floor(statSync(original).size / 2);
    const file = join(stack.scratch, 'truncated.avi');
    const buf = Buffer.alloc(half);
    const fd = openSync(original, 'r');
    readSync(fd, buf, 0, half, 0);
    closeSync(fd);
    writeFileSync(file, buf);
    const started = Date.now();
    const run = await startWatched(fragile, { url: file, loop: false, realtime: false }, 'src/cut');
    const ended = await waitEnded(run.id, 90_000);
    const frames = monitor.detectionsSince(run.id, started);
    assert.equal(
      ended.status,
      'inactive',
      `${ended.status}/${ended.reasonCode}: ${ended.reasonMessage}`,
    );
    assert.equal(ended.reasonCode, 'source_ended');
    // About 40 s of video at 2 frames/s: the part before the cut was processed.
    assert.ok(frames >= 40, `only ${frames} frames of the truncated file were processed`);
    await othersUnaffected();
    t.diagnostic(`${frames} frames, then ${ended.status}/${ended.reasonCode}`);
    recordReliability({
      suite: 'input',
      name: 'source: truncated file (vtest.avi cut in half)',
      outcome: 'failed-cleanly',
      recoverMs: Date.now() - started,
      dataLost: 'none',
      detail: `${frames} frames processed up to the cut, then inactive/source_ended; control run undisturbed`,
    });
  },
);

test(
  'a camera that changes resolution mid-stream keeps delivering, scaled',
  { timeout: 150_000 },
  async (t) => {
    // 768x576 for 4 s, then 640x360 for 4 s, looped: a switch every 4 s.
    const big = encodeH264(
      asset('media/vtest.avi'),
      stack.scratch,
      'big.ts',
      { width: 768, height: 576 },
      ['-t', '4'],
    );
    const small = encodeH264(
      asset('media/vtest.avi'),
      stack.scratch,
      'small.ts',
      { width: 640, height: 360 },
      ['-ss', '4', '-t', '4'],
    );
    const list = join(stack.scratch, 'switch.txt');
    writeFileSync(list, `file '${big}'\nfile '${small}'\n`);
    const concat = join(stack.scratch, 'switch.mkv');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      list,
      '-c',
      'copy',
      concat,
    ]);
    const url = await stack.cameras.publish('switch', concat);
    const run = await startWatched(steady, { url }, 'src/switch');
    await monitor.waitDelivering(Date.now(), 60_000, [run]);
    const from = Date.now();
    // Three switches at least.
    await sleep(13_000);
    const arrivals = monitor.arrivalsSince(run.id, from);
    const frames = arrivals.length;
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? t));
    const maxGapMs = Math.max(0, ...gaps);
    await monitor.waitDelivering(Date.now(), 30_000, [run]);
    const [row] = await stack.runs([run.id]);
    assert.equal(row?.status, 'active');
    assert.ok(frames >= 15, `${frames} frames over 13 s of resolution switches`);
    // No reconnect at a switch: the decoder goes on, the scaler keeps the run's frame size.
    assert.ok(maxGapMs < 4000, `a ${maxGapMs} ms gap in the detections at a switch`);
    await othersUnaffected([run]);
    t.diagnostic(
      `${frames} frames in 13 s of switches (largest gap ${maxGapMs} ms); restarts ${row?.restarts}`,
    );
    recordReliability({
      suite: 'input',
      name: 'source: resolution change mid-stream (768x576 ↔ 640x360)',
      outcome: 'recovered',
      dataLost: 'none',
      detail: `run stayed active (restarts ${row?.restarts ?? 0}), ${frames} frames in 13 s across ≥3 switches with no gap over ${maxGapMs} ms, each frame scaled to the run's size fixed at the first probe; control run undisturbed`,
    });
  },
);
