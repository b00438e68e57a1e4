import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PixelFormat, Stage, StageEventKind } from '@sie/contracts';
import { ringPath, storeNameForRun } from '@sie/framestore';
import { FakeInferenceForTest } from './testing/fake-inference.js';
import { runSpec, startIngestForTest, uid, type TestIngest } from './testing/harness.js';
import { VTEST, ffmpegPidsWith, makeClip, makeTextFile } from './testing/media.js';
import { startTestNats, type TestNats } from './testing/nats-server.js';

const { STAGE_EVENT_KIND_STARTED: STARTED, STAGE_EVENT_KIND_RECONNECTING: RECONNECTING } =
  StageEventKind;
const { STAGE_EVENT_KIND_ENDED: ENDED, STAGE_EVENT_KIND_FAILED: FAILED } = StageEventKind;
const { STAGE_EVENT_KIND_STOPPED: STOPPED } = StageEventKind;

const HEARTBEAT_MS = 250;

describe('ingest service (real ffmpeg, NATS and frame store; fake inference)', () => {
  let nats: TestNats;
  let fake: FakeInferenceForTest;
  let ingest: TestIngest;
  let work: string;
  let clip: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'sie-ingest-test-'));
    clip = makeClip(work, 1);
    nats = await startTestNats();
    const frameStoreDir = mkdtempSync(join(tmpdir(), 'sie-ingest-rings-'));
    fake = await FakeInferenceForTest.start({
      frameStoreDir,
      unknownModels: ['no-such-model'],
      unavailableModels: ['down-model'],
      delayMs: { 'slow-model': 250 },
    });
    ingest = await startIngestForTest(nats.url, {
      frameStoreDir,
      inference: { url: fake.url, timeoutMs: 2000 },
      maxRuns: 2,
      heartbeatIntervalMs: HEARTBEAT_MS,
      stallTimeoutMs: 2000,
      killGraceMs: 500,
      // Service defaults that would make a retried failure slow: the run's policy overrides them.
      retry: { startupAttempts: 3, reconnectAttempts: 2, intervalMs: 2000 },
    });
  });

  after(async () => {
    await ingest?.close();
    await fake?.stop();
    await nats?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const ring = (runId: string, generation = 1): string =>
    ringPath(ingest.config.frameStoreDir, storeNameForRun(runId, generation));

  test('a file read with realtime=false publishes every frame, in order, then ENDED', async () => {
    const runId = uid('every');
    const watch = ingest.watch(runId);
    const started = Date.now();
    const res = await ingest.start(runSpec({ runId, url: VTEST, realtime: false }));
    assert.deepEqual(res, { accepted: true, error: undefined });
    await watch.waitFor(() => watch.reportOf(ENDED) !== undefined, 30_000, 'ENDED');
    const elapsed = Date.now() - started;

    assert.equal(watch.detections.length, 795, 'every decoded frame is published');
    watch.detections.forEach((d, i) => {
      const f = d.frame;
      assert.ok(f);
      assert.equal(f.seq, i + 1, 'in order, none missing');
      assert.equal(f.slot, i % ingest.config.frameStoreSlots);
      assert.equal(f.runId, runId);
      assert.equal(f.store, storeNameForRun(runId, 1));
      assert.equal(f.generation, 1);
      assert.equal(f.width, 768);
      assert.equal(f.height, 576);
      assert.equal(f.pixelFormat, PixelFormat.PIXEL_FORMAT_BGR24);
      assert.equal(f.byteLength, 768 * 576 * 3);
      assert.equal(f.ptsMs, i * 100, 'pts from the 10 fps source');
      assert.equal(d.tenantId, 'tenant-test');
      assert.equal(d.modelId, 'fake-model');
      assert.ok(d.latencyMs >= 0 && d.latencyMs < 5000);
      assert.deepEqual(d.detections[0]?.box, { x1: 0, y1: 0, x2: 768, y2: 576 });
    });
    // The fake read every frame's real pixels from the ring, by reference.
    const calls = fake.calls.filter((c) => c.runId === runId);
    assert.equal(calls.length, 795);
    assert.ok(calls.every((c) => c.bytes === 768 * 576 * 3 && c.nonZero));
    assert.ok(calls.every((c) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/.test(c.traceparent ?? '')));

    const ended = watch.reportOf(ENDED);
    assert.ok(ended && ended.receivedAt >= 0);
    assert.equal(ended.stage, Stage.STAGE_INGEST);
    assert.equal(ended.nodeId, ingest.config.nodeId);
    assert.deepEqual(
      watch.reports.map((r) => r.kind),
      [STARTED, ENDED],
    );
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    assert.ok(!existsSync(ring(runId)), 'the ring is removed when the run ends');
    assert.deepEqual((await ingest.ping()).runIds, []);
    watch.close();
  });

  test('a looping realtime file keeps going past its end; stop kills ffmpeg and removes the ring', async () => {
    const runId = uid('loop');
    const watch = ingest.watch(runId);
    const res = await ingest.start(
      runSpec({ runId, url: clip, realtime: true, loop: true, generation: 3 }),
    );
    assert.equal(res.accepted, true);
    // The clip holds 10 frames (1 s at 10 fps): 25 frames means it looped at least twice.
    await watch.waitFor(() => watch.detections.length >= 25, 10_000, '25 detections');
    assert.ok(existsSync(ring(runId, 3)));
    const pids = ffmpegPidsWith(clip);
    assert.equal(pids.length, 1, 'one ffmpeg for the run');
    const seqs = watch.detections.map((d) => d.frame?.seq ?? 0);
    assert.ok(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? 0)));
    const pts = watch.detections.map((d) => d.frame?.ptsMs ?? 0);
    assert.ok((pts.at(-1) ?? 0) >= 2000, 'presentation time keeps growing across loops');

    // Heartbeats: about one per interval, counting frames.
    await watch.waitFor(() => watch.heartbeats.length >= 5, 5000, '5 heartbeats');
    const beats = watch.heartbeats;
    const gaps = beats.slice(1).map((b, i) => b.receivedAt - (beats[i]?.receivedAt ?? 0));
    const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(
      meanGap > HEARTBEAT_MS * 0.7 && meanGap < HEARTBEAT_MS * 1.5,
      `heartbeat gap ${meanGap}`,
    );
    const last = beats.at(-1);
    assert.ok(last);
    assert.equal(last.stage, Stage.STAGE_INGEST);
    assert.equal(last.generation, 3);
    assert.equal(last.nodeId, ingest.config.nodeId);
    assert.ok(last.framesIn >= 20 && last.framesOut >= 20, JSON.stringify(last));
    // The 10 fps clip, averaged over the windows (one 250 ms window holds only 2-3 frames).
    const fpsValues = beats.slice(1).map((b) => b.fps);
    const meanFps = fpsValues.reduce((a, b) => a + b, 0) / fpsValues.length;
    assert.ok(meanFps > 6 && meanFps < 14, `fps ${fpsValues.join(',')}`);

    const metrics = await ingest.registry.getSingleMetricAsString(
      'sie_ingest_frames_decoded_total',
    );
    assert.match(metrics, new RegExp(`run="${runId}"`));

    const stopped = await ingest.stop(runId, 3);
    assert.deepEqual(stopped, { stopped: true, error: undefined });
    await watch.waitFor(() => watch.reportOf(STOPPED) !== undefined, 5000, 'STOPPED');
    assert.deepEqual(ffmpegPidsWith(clip), [], 'ffmpeg is gone');
    assert.ok(!existsSync(ring(runId, 3)), 'the ring file is removed');
    const after = await ingest.registry.getSingleMetricAsString('sie_ingest_frames_decoded_total');
    assert.doesNotMatch(after, new RegExp(runId), "the run's metric series are removed");
    const beatsAtStop = watch.heartbeats.length;
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 2));
    assert.equal(watch.heartbeats.length, beatsAtStop, 'no heartbeats after the stop');
    watch.close();
  });

  test('a missing file fails with source_unreachable after exactly the startup attempts', async () => {
    const runId = uid('missing');
    const watch = ingest.watch(runId);
    const t0 = Date.now();
    const res = await ingest.start(
      runSpec({
        runId,
        url: join(work, 'missing.mp4'),
        retry: { startupAttempts: 2, intervalMs: 200 },
      }),
    );
    assert.equal(res.accepted, true, 'the source is checked after accepting');
    await watch.waitFor(() => watch.reportOf(FAILED) !== undefined, 5000, 'FAILED');
    const failed = watch.reportOf(FAILED);
    assert.ok(failed);
    assert.equal(failed.error?.code, 'source_unreachable');
    assert.equal(failed.attempt, 2);
    assert.match(failed.error?.message ?? '', /after 2 attempt\(s\): .*No such file or directory/);
    const took = failed.receivedAt - t0;
    assert.ok(took >= 200 && took < 2000, `failed after ${took} ms`);
    assert.deepEqual(
      watch.reports.map((r) => r.kind),
      [FAILED],
    );
    assert.ok(!existsSync(ring(runId)));

    // The node is not disturbed: another run starts and finishes normally.
    const next = uid('after-missing');
    const w2 = ingest.watch(next);
    assert.equal((await ingest.start(runSpec({ runId: next, url: clip }))).accepted, true);
    await w2.waitFor(() => w2.reportOf(ENDED) !== undefined, 10_000, 'ENDED of the next run');
    assert.equal(w2.detections.length, 10);
    watch.close();
    w2.close();
  });

  test('a text file fails with source_invalid at once, without retries', async () => {
    const runId = uid('text');
    const watch = ingest.watch(runId);
    const t0 = Date.now();
    assert.equal((await ingest.start(runSpec({ runId, url: makeTextFile(work) }))).accepted, true);
    await watch.waitFor(() => watch.reportOf(FAILED) !== undefined, 5000, 'FAILED');
    const failed = watch.reportOf(FAILED);
    assert.equal(failed?.error?.code, 'source_invalid');
    assert.match(failed?.error?.message ?? '', /^not a video: /);
    assert.equal(failed?.attempt, 1);
    // The service default is 3 attempts 2 s apart: a retry would have taken ≥ 2 s.
    assert.ok((failed?.receivedAt ?? Infinity) - t0 < 1500);
    watch.close();
  });

  test('forbidden source schemes and bad specs are refused in the reply', async () => {
    const concat = await ingest.start(runSpec({ runId: uid('concat'), url: 'concat:/etc/passwd' }));
    assert.equal(concat.accepted, false);
    assert.equal(concat.error?.code, 'source_invalid');
    assert.match(concat.error?.message ?? '', /scheme "concat:" is not allowed/);

    const badId = await ingest.start(runSpec({ runId: 'bad.id', url: VTEST }));
    assert.equal(badId.accepted, false);
    assert.equal(badId.error?.code, 'invalid_argument');
    assert.equal(badId.error?.details['field'], 'run.runId');

    const badModel = await ingest.start(runSpec({ runId: uid('m'), url: VTEST, modelId: '' }));
    assert.equal(badModel.error?.code, 'invalid_argument');
    assert.deepEqual((await ingest.ping()).runIds, []);
  });

  test('runs beyond maxRuns are refused with unavailable; ping shows runs and capacity', async () => {
    const a = uid('cap-a');
    const b = uid('cap-b');
    for (const runId of [a, b]) {
      const res = await ingest.start(runSpec({ runId, url: clip, realtime: true, loop: true }));
      assert.equal(res.accepted, true);
    }
    const ping = await ingest.ping();
    assert.deepEqual([...ping.runIds].sort(), [a, b].sort());
    assert.equal(ping.capacity, 0);
    assert.equal(ping.stage, 'ingest');
    assert.equal(ingest.info['activeRuns'], 2);
    const third = await ingest.start(runSpec({ runId: uid('cap-c'), url: clip }));
    assert.equal(third.accepted, false);
    assert.equal(third.error?.code, 'unavailable');
    // Starting a held run again is not a new run: no capacity needed.
    assert.equal(
      (await ingest.start(runSpec({ runId: a, url: clip, realtime: true, loop: true }))).accepted,
      true,
    );
    await Promise.all([ingest.stop(a, 1), ingest.stop(b, 1)]);
    assert.equal((await ingest.ping()).capacity, 2);
  });

  test('generation fencing: older commands are refused, the same start is idempotent, a newer one replaces', async () => {
    const runId = uid('gen');
    const watch = ingest.watch(runId);
    const spec = (generation: number) =>
      runSpec({ runId, url: clip, realtime: true, loop: true, generation });
    assert.equal((await ingest.start(spec(5))).accepted, true);
    await watch.waitFor(() => watch.reportOf(STARTED) !== undefined, 5000, 'STARTED');

    assert.equal((await ingest.start(spec(5))).accepted, true, 'same generation: idempotent');
    const older = await ingest.start(spec(4));
    assert.equal(older.accepted, false);
    assert.equal(older.error?.code, 'stale_generation');
    const olderStop = await ingest.stop(runId, 4);
    assert.equal(olderStop.stopped, false);
    assert.equal(olderStop.error?.code, 'stale_generation');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      watch.reports.map((r) => [r.kind, r.generation]),
      [[STARTED, 5]],
      'the run was neither restarted nor stopped',
    );

    assert.equal((await ingest.start(spec(6))).accepted, true);
    await watch.waitFor(
      () => watch.reports.some((r) => r.kind === STARTED && r.generation === 6),
      5000,
      'STARTED of generation 6',
    );
    assert.deepEqual(
      watch.reports.map((r) => [r.kind, r.generation]),
      [
        [STARTED, 5],
        [STOPPED, 5],
        [STARTED, 6],
      ],
    );
    assert.equal(ffmpegPidsWith(clip).length, 1, 'the replaced run left no ffmpeg behind');
    assert.equal((await ingest.stop(runId, 6)).stopped, true);
    await watch.waitFor(
      () => watch.reports.some((r) => r.kind === STOPPED && r.generation === 6),
      5000,
      'STOPPED of generation 6',
    );
    watch.close();
  });

  test('a lost source reconnects (crash, stall); one that stays lost fails with source_lost', async () => {
    const runId = uid('lost');
    const source = join(work, 'lost.avi');
    copyFileSync(clip, source);
    const watch = ingest.watch(runId);
    const kinds = (kind: number): number => watch.reports.filter((r) => r.kind === kind).length;
    const onePid = (): number => {
      const pids = ffmpegPidsWith(source);
      assert.equal(pids.length, 1);
      return pids[0] ?? 0;
    };
    await ingest.start(
      runSpec({
        runId,
        url: source,
        realtime: true,
        loop: true,
        retry: { reconnectAttempts: 2, intervalMs: 100 },
      }),
    );
    await watch.waitFor(() => watch.detections.length >= 3, 5000, 'first detections');

    // 1. ffmpeg dies: RECONNECTING, then STARTED again.
    process.kill(onePid(), 'SIGKILL');
    await watch.waitFor(() => kinds(STARTED) === 2, 5000, 'second STARTED');
    const crash = watch.reports.find((r) => r.kind === RECONNECTING);
    assert.equal(crash?.error?.code, 'source_lost');
    assert.match(crash?.error?.message ?? '', /SIGKILL/);
    assert.equal(crash?.attempt, 1);
    const reconnects = await ingest.registry.getSingleMetricAsString(
      'sie_ingest_source_reconnects_total',
    );
    assert.match(reconnects, new RegExp(`run="${runId}"[^\n]* 1`));

    // 2. ffmpeg hangs (no frames, no exit): the watchdog notices and restarts it.
    const before = watch.detections.length;
    process.kill(onePid(), 'SIGSTOP');
    await watch.waitFor(() => kinds(STARTED) === 3, 8000, 'third STARTED after a stall');
    const stall = watch.reports.filter((r) => r.kind === RECONNECTING).at(-1);
    assert.match(stall?.error?.message ?? '', /no frame for 2000 ms/);
    await watch.waitFor(() => watch.detections.length > before + 2, 5000, 'frames again');
    const seqs = watch.detections.map((d) => d.frame?.seq ?? 0);
    assert.ok(
      seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? 0)),
      'seq stays monotonic',
    );

    // 3. The source disappears for good: the reconnect attempts run out.
    rmSync(source);
    process.kill(onePid(), 'SIGKILL');
    await watch.waitFor(() => watch.reportOf(FAILED) !== undefined, 5000, 'FAILED');
    const failed = watch.reportOf(FAILED);
    assert.equal(failed?.error?.code, 'source_lost');
    assert.equal(failed?.attempt, 2);
    assert.match(
      failed?.error?.message ?? '',
      /2 reconnect attempt\(s\) failed; last attempt: .*No such file/,
    );
    assert.equal(kinds(RECONNECTING), 4);
    assert.ok(!existsSync(ring(runId)));
    watch.close();
  });

  test('an unknown model fails the run with model_error', async () => {
    const runId = uid('nomodel');
    const watch = ingest.watch(runId);
    await ingest.start(
      runSpec({ runId, url: clip, realtime: true, loop: true, modelId: 'no-such-model' }),
    );
    await watch.waitFor(() => watch.reportOf(FAILED) !== undefined, 5000, 'FAILED');
    assert.equal(watch.reportOf(FAILED)?.error?.code, 'model_error');
    assert.equal(watch.detections.length, 0);
    assert.deepEqual(ffmpegPidsWith(clip), []);
    watch.close();
  });

  test('inference errors drop frames (counted) and the run goes on', async () => {
    const runId = uid('down');
    const watch = ingest.watch(runId);
    await ingest.start(
      runSpec({ runId, url: clip, realtime: true, loop: true, modelId: 'down-model' }),
    );
    await watch.waitFor(
      () => (watch.heartbeats.at(-1)?.framesDropped ?? 0) >= 5,
      5000,
      'dropped frames in heartbeats',
    );
    const dropped = await ingest.registry.getSingleMetricAsString(
      'sie_ingest_frames_dropped_total',
    );
    assert.match(
      dropped,
      new RegExp(`reason="inference_error",run="${runId}"|run="${runId}",reason="inference_error"`),
    );
    assert.equal(watch.reportOf(FAILED), undefined);
    assert.equal(watch.detections.length, 0);
    await ingest.stop(runId, 1);
    watch.close();
  });

  test('a realtime source with slow inference keeps the latest frame and counts queue_full drops', async () => {
    const runId = uid('slow');
    const watch = ingest.watch(runId);
    await ingest.start(
      runSpec({ runId, url: VTEST, realtime: true, modelId: 'slow-model', sampleFps: 0 }),
    );
    await watch.waitFor(() => watch.detections.length >= 6, 10_000, '6 detections');
    const beat = watch.heartbeats.at(-1);
    await watch.waitFor(
      () => (watch.heartbeats.at(-1)?.framesDropped ?? 0) >= 3,
      5000,
      'queue_full drops',
    );
    // Latest-frame-wins: latency stays about one inference, it does not grow with the backlog.
    const latencies = watch.detections.map((d) => d.latencyMs);
    // (A queue would be ~10 frames behind by now: over 1.5 s.)
    assert.ok(Math.max(...latencies) < 900, `latencies ${latencies.join(',')}`);
    // Published seqs skip the frames that were replaced while inference was busy.
    const seqs = watch.detections.map((d) => d.frame?.seq ?? 0);
    assert.ok(
      seqs.some((s, i) => i > 0 && s - (seqs[i - 1] ?? 0) > 1),
      `seqs ${seqs.join(',')}`,
    );
    assert.ok(beat === undefined || beat.framesIn >= beat.framesOut);
    await ingest.stop(runId, 1);
    watch.close();
  });

  test('/healthz checks: inference channel state', async () => {
    const check = ingest.checks.get('inference');
    assert.ok(check);
    assert.equal(check(), 'ok');
    assert.equal(ingest.info['maxRuns'], 2);
  });
});
