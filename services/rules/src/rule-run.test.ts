/**
 * RuleRun against the real nats-server of the test run (JetStream + KV): scripted detections in,
 * events on the stream and overlays out, and the crash window the design relies on — an event
 * acked before the snapshot that includes it is re-emitted after a restore with the same id and
 * dropped by the stream's dedup.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Bus, detectionsSubject, overlaysSubject, runEventsSubject } from '@sie/bus';
import {
  Event,
  FrameDetections,
  Overlay,
  PixelFormat,
  type Detection,
  type RunSpec,
} from '@sie/contracts';
import { ConfigError } from '@sie/errors';
import { createLogger, createMetricsRegistry } from '@sie/telemetry';
import { RulesMetrics } from './metrics.js';
import { RuleRun, type RuleRunOptions } from './rule-run.js';
import { EVENTS_STREAM, ensureEventsStream, openStateBucket, type StateKv } from './streams.js';

const logger = createLogger({
  service: 'rules-test',
  level: process.env.RR_LOG ? 'debug' : 'silent',
});
let bus: Bus;
let kv: StateKv;
let metrics: RulesMetrics;

before(async () => {
  const url = process.env.NATS_URL;
  if (!url) throw new Error('NATS_URL is not set: run with the test runner');
  bus = await Bus.connect({ servers: url, name: 'rules-test', logger });
  const events = { maxAgeDays: 1, maxMsgsPerSubject: 1000, duplicateWindowMs: 120_000 };
  await ensureEventsStream(bus, events, logger);
  await ensureEventsStream(bus, events, logger); // idempotent
  kv = await openStateBucket(bus, 3_600_000);
  metrics = new RulesMetrics(createMetricsRegistry('rules-test'));
});

after(async () => {
  await bus?.close();
});

const RULES = JSON.stringify({
  zones: [],
  lines: [{ id: 'mid', a: [0.5, 0], b: [0.5, 1] }],
  rules: [{ id: 'cross', kind: 'line_cross', line: 'mid', params: { direction: 'both' } }],
});

const spec = (runId: string, rulesJson = RULES): RunSpec => ({
  runId,
  tenantId: 'acme',
  generation: 1,
  pipeline: {
    modelId: 'm',
    scoreThreshold: 0.3,
    classes: [],
    sampleFps: 0,
    outputWidth: 0,
    outputHeight: 0,
    outputFps: 0,
    retry: undefined,
    rulesJson,
    snapshotsJson: '',
    captureJson: '',
  },
  source: undefined,
  outputPath: runId,
});

const options = (): RuleRunOptions => ({
  bus,
  kv,
  metrics,
  logger,
  snapshotEveryMs: 1000,
  idleSnapshotMs: 10_000,
  publishTimeoutMs: 2000,
});

/** A person walking left to right across the middle, one step per frame (1000×1000 frame). */
function person(seq: number): Detection {
  const x = 100 + seq * 50;
  return {
    classId: 0,
    label: 'person',
    score: 0.9,
    box: { x1: x - 40, y1: 300, x2: x + 40, y2: 600 },
    trackId: 0,
  };
}

function frame(runId: string, seq: number): FrameDetections {
  return {
    frame: {
      runId,
      seq,
      slot: 0,
      captureTimeMs: 1_700_000_000_000 + seq * 100,
      width: 1000,
      height: 1000,
      pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
      store: '',
      byteLength: 0,
      generation: 0,
      ptsMs: (seq - 1) * 100,
    },
    detections: [person(seq)],
    modelId: 'm',
    timings: undefined,
    tenantId: 'acme',
    latencyMs: 0,
  };
}

/** Publishes frames and waits for the overlay of the last one. */
async function feed(runId: string, seqs: number[], overlays: Overlay[]): Promise<void> {
  for (const s of seqs) bus.publish(detectionsSubject(runId), FrameDetections, frame(runId, s));
  const last = seqs.at(-1) ?? 0;
  const deadline = Date.now() + 5000;
  while (!overlays.some((o) => o.frame?.seq === last)) {
    if (Date.now() > deadline) throw new Error(`no overlay for frame ${last}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function streamEvents(runId: string): Promise<Event[]> {
  const jsm = await bus.nc.jetstreamManager();
  const out: Event[] = [];
  const info = await jsm.streams.info(EVENTS_STREAM);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => undefined);
    if (m && m.subject.startsWith(runEventsSubject('acme', runId).slice(0, -1))) {
      out.push(Event.decode(m.data));
    }
  }
  return out;
}

test('a line crossing: one event on the stream with its frame, an overlay per frame, state in KV', async () => {
  const runId = `rr-${process.pid}-a`;
  const overlays: Overlay[] = [];
  const sub = bus.subscribe(overlaysSubject(runId), Overlay, (o) => {
    overlays.push(o);
  });
  const run = await RuleRun.open(spec(runId), options());
  await feed(
    runId,
    Array.from({ length: 16 }, (_, i) => i + 1),
    overlays,
  );
  await run.close();
  sub.unsubscribe();

  const events = await streamEvents(runId);
  assert.equal(events.length, 1, JSON.stringify(events));
  const e = events[0];
  assert.ok(e);
  assert.equal(e.kind, 'line_cross');
  assert.equal(e.ruleId, 'cross');
  assert.equal(e.tenantId, 'acme');
  assert.equal(e.frame?.runId, runId);
  assert.equal(e.captureTimeMs, e.frame?.captureTimeMs);
  assert.equal(e.id, `${runId}.cross.${e.frame?.seq}.0`);
  assert.deepEqual(e.trackIds.length, 1);

  assert.equal(overlays.length, 16);
  const o = overlays.find((x) => x.frame?.seq === e.frame?.seq);
  const box = o?.shapes.find((s) => s.shape?.$case === 'box');
  assert.ok(box?.shape?.$case === 'box');
  assert.equal(box.shape.box.highlight, true);
  assert.match(box.shape.box.label, /^#\d+ person 0\.90$/);
  const line = overlays
    .at(-1)
    ?.shapes.find((s) => s.shape?.$case === 'polygon' && !s.shape.polygon.closed);
  assert.ok(line?.shape?.$case === 'polygon');
  assert.deepEqual(line.shape.polygon.points, [
    { x: 0.5, y: 0 },
    { x: 0.5, y: 1 },
  ]);
  assert.equal(line.shape.polygon.label, 'mid: 0 A→B, 1 B→A');

  const entry = await kv.get(runId);
  assert.ok(entry);
  const snap = JSON.parse(new TextDecoder().decode(entry.value)) as { lastSeq: number };
  assert.equal(snap.lastSeq, 16);
});

test('restored from an older snapshot, a re-emitted event is dropped by dedup; counts go on', async () => {
  const runId = `rr-${process.pid}-b`;
  const overlays: Overlay[] = [];
  const sub = bus.subscribe(overlaysSubject(runId), Overlay, (o) => {
    overlays.push(o);
  });
  // Frames 1-4 (before the crossing), then the snapshot they leave behind is kept aside.
  const first = await RuleRun.open(spec(runId), options());
  await feed(runId, [1, 2, 3, 4], overlays);
  await first.close();
  const older = await kv.get(runId);
  assert.ok(older);
  const olderValue = older.value.slice();

  // The run goes on past the crossing (event published, snapshot written)…
  const second = await RuleRun.open(spec(runId), options());
  await feed(runId, [5, 6, 7, 8, 9, 10, 11, 12], overlays);
  // …and "crashes" with its last snapshot lost: KV holds the older one again.
  await second.close();
  await kv.put(runId, olderValue);
  const before = await streamEvents(runId);
  assert.equal(before.length, 1);

  const dupBefore = (await metrics.duplicates.get()).values[0]?.value ?? 0;
  const third = await RuleRun.open(spec(runId), options());
  overlays.length = 0;
  await feed(runId, [5, 6, 7, 8, 9, 10, 11, 12], overlays);
  await third.close();
  sub.unsubscribe();
  const dupAfter = (await metrics.duplicates.get()).values[0]?.value ?? 0;
  const after = await streamEvents(runId);
  assert.deepEqual(
    after.map((e) => e.id),
    before.map((e) => e.id),
  );
  assert.equal(dupAfter - dupBefore, 1);
  assert.equal(third.eventsOut, 0);
  const line = overlays
    .at(-1)
    ?.shapes.find((s) => s.shape?.$case === 'polygon' && !s.shape.polygon.closed);
  assert.ok(line?.shape?.$case === 'polygon');
  assert.equal(line.shape.polygon.label, 'mid: 0 A→B, 1 B→A');
});

test('a bad rules document refuses the run with a ConfigError naming the field', async () => {
  const bad = JSON.stringify({
    zones: [],
    lines: [],
    rules: [{ id: 'x', kind: 'zone_enter', zone: 'nowhere' }],
  });
  await assert.rejects(RuleRun.open(spec(`rr-${process.pid}-c`, bad), options()), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /rules\.0\.zone/);
    return true;
  });
  await assert.rejects(
    RuleRun.open(spec(`rr-${process.pid}-d`, '{not json'), options()),
    ConfigError,
  );
});

test('a source that starts over (frames from 1 again) goes on with monotonic seqs and fresh event ids', async () => {
  const runId = `rr-${process.pid}-e`;
  const overlays: Overlay[] = [];
  const sub = bus.subscribe(overlaysSubject(runId), Overlay, (o) => {
    overlays.push(o);
  });
  const frames = Array.from({ length: 16 }, (_, i) => i + 1);
  const first = await RuleRun.open(spec(runId), options());
  await feed(runId, frames, overlays);
  await first.close();
  // The run restarted (a newer generation): ingest numbers frames from 1 and pts from 0 again.
  const second = await RuleRun.open(spec(runId), options());
  overlays.length = 0;
  await feed(runId, frames, overlays);
  await second.close();
  sub.unsubscribe();
  const events = await streamEvents(runId);
  assert.equal(events.length, 2, JSON.stringify(events.map((e) => e.id)));
  assert.notEqual(events[0]?.id, events[1]?.id);
  // The frame reference stays the real frame; the id carries the engine's monotonic sequence.
  assert.equal(events[1]?.frame?.seq, events[0]?.frame?.seq);
  assert.equal(events[1]?.id, `${runId}.cross.${(events[0]?.frame?.seq ?? 0) + 16}.0`);
  const line = overlays
    .at(-1)
    ?.shapes.find((s) => s.shape?.$case === 'polygon' && !s.shape.polygon.closed);
  assert.ok(line?.shape?.$case === 'polygon');
  assert.equal(line.shape.polygon.label, 'mid: 0 A→B, 2 B→A');
  const entry = await kv.get(runId);
  assert.ok(entry);
  const snap = JSON.parse(new TextDecoder().decode(entry.value)) as {
    lastSeq: number;
    seqOffset: number;
  };
  assert.equal(snap.lastSeq, 32);
  assert.equal(snap.seqOffset, 16);
});
