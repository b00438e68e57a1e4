/**
 * The rules service as a real process on real video: inference (YOLOX-Nano), ingest and rules of
 * one node, vtest.avi read with `realtime: false` (every frame, deterministic input), a line across
 * the hall and a zone. Events come from the JetStream stream `SIE_EVENTS` through a durable
 * consumer, overlays from `sie.ovl.<run>`.
 *
 * Kill -9 design: ingest does not wait for rules, so detections published while rules is down are
 * lost to it. The test pauses ingest (SIGSTOP) and kills rules at once, mid-run — whatever rules
 * had received but not yet snapshotted is lost with the process. It then restarts rules (same
 * node id), starts the run on it again (same generation), and replays the detections ingest had
 * published after the snapshot the new process restored (the test recorded them, as a replaying
 * source would send them) before letting ingest go on (SIGCONT). Events re-emitted by the replay
 * carry the ids they had before, so JetStream's dedup drops them; the run must end with exactly
 * the events and counts of an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { detectionsSubject, overlaysSubject, runEventsSubject, type Bus } from '@sie/bus';
import { Event, FrameDetections, Overlay, StageEventKind } from '@sie/contracts';
import { asset, natsUrl } from './support/env.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { RunWatch } from './support/run-watch.js';
import { startRun, startStageRun, type TestRun } from './support/runs.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

const RULES = JSON.stringify({
  zones: [
    {
      id: 'hall',
      polygon: [
        [0.2, 0.3],
        [0.8, 0.3],
        [0.8, 0.95],
        [0.2, 0.95],
      ],
    },
  ],
  lines: [{ id: 'mid', a: [0.5, 0.0], b: [0.5, 1.0] }],
  rules: [
    {
      id: 'cross',
      kind: 'line_cross',
      line: 'mid',
      classes: ['person'],
      params: { direction: 'both' },
    },
    { id: 'enter', kind: 'zone_enter', zone: 'hall', classes: ['person'] },
  ],
});

const STREAM = 'SIE_EVENTS';
const VTEST_FRAMES = 795;

let node: NodeStack;
let bus: Bus;
let rules: ServiceProcess;
let reference: { events: Normalized[]; lastOverlay: string[] } | undefined;

const rulesEnv = (): Record<string, string> => ({
  NATS_URL: natsUrl(),
  SIE_NODE_ID: node.nodeId,
  SIE_HEARTBEAT_INTERVAL_MS: '500',
});

before(async () => {
  // The pause of the restart test must not let an in-flight Detect hit its deadline.
  node = await startNodeStack('rules', { env: { SIE_INFERENCE__TIMEOUT_MS: '60000' } });
  bus = node.bus;
  rules = await startServiceProcess('rules', rulesEnv());
});

after(async () => {
  await rules?.stop();
  await node?.stop();
});

interface Normalized {
  ruleId: string;
  kind: string;
  frameSeq: number;
  trackIds: number[];
  counts: Record<string, number>;
  /** The event id without its run id prefix. */
  idTail: string;
}

const normalize = (e: Event): Normalized => ({
  ruleId: e.ruleId,
  kind: e.kind,
  frameSeq: e.frame?.seq ?? 0,
  trackIds: e.trackIds,
  counts: e.counts,
  idTail: e.id.startsWith(`${e.runId}.`) ? e.id.slice(e.runId.length + 1) : e.id,
});

/** A run's detections, reports and overlays as they arrive. */
class RulesRunWatch extends RunWatch {
  readonly overlays: Overlay[] = [];
  constructor(b: Bus, runId: string) {
    super(b, runId);
    b.subscribe(overlaysSubject(runId), Overlay, (o) => {
      this.overlays.push(o);
    });
  }
  lastOverlaySeq(): number {
    return this.overlays.at(-1)?.frame?.seq ?? 0;
  }
  lastDetectionSeq(): number {
    let max = 0;
    for (const d of this.detections) max = Math.max(max, d.frame?.seq ?? 0);
    return max;
  }
  /** Resolves once rules has drawn an overlay for frame `seq` (counting from overlay `from`). */
  async overlayFor(seq: number, timeoutMs: number, from = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.overlays.slice(from).some((o) => (o.frame?.seq ?? 0) >= seq)) {
      if (Date.now() > deadline)
        throw new Error(
          `no overlay for frame ${seq} of ${this.runId} (last ${this.lastOverlaySeq()}):\n${rules.output()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A durable consumer on the run's events, created before the run so it sees every delivery. */
async function durableConsumer(runId: string): Promise<() => Promise<Event[]>> {
  const jsm = await bus.nc.jetstreamManager();
  const name = `test-${runId}`;
  type Add = Parameters<typeof jsm.consumers.add>[1];
  await jsm.consumers.add(STREAM, {
    durable_name: name,
    filter_subject: runEventsSubject('test', runId),
    ack_policy: 'explicit',
    deliver_policy: 'all',
  } as unknown as Add);
  const consumer = await bus.nc.jetstream().consumers.get(STREAM, name);
  return async () => {
    const out: Event[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
      let n = 0;
      for await (const m of batch) {
        out.push(Event.decode(m.data));
        m.ack();
        n++;
      }
      if (n === 0) return out;
    }
  };
}

function vtestRun(runId: string): TestRun {
  return {
    runId,
    modelId: 'yolox',
    source: { url: asset('media/vtest.avi'), realtime: false },
    rulesJson: RULES,
  };
}

async function startBoth(run: TestRun): Promise<void> {
  const r = await startStageRun(bus, node.nodeId, 'rules', run);
  assert.equal(r.accepted, true, r.error?.message);
  const i = await startRun(bus, node.nodeId, run);
  assert.equal(i.accepted, true, i.error?.message);
}

/** Waits for ingest's end and for rules to have processed the last frame. */
async function untilDone(watch: RulesRunWatch): Promise<void> {
  await watch.report(StageEventKind.STAGE_EVENT_KIND_ENDED, 240_000);
  await bus.flush();
  await watch.overlayFor(watch.lastDetectionSeq(), 30_000);
}

const overlayLabels = (o: Overlay | undefined): string[] =>
  (o?.shapes ?? [])
    .map((s) => (s.shape?.$case === 'polygon' ? s.shape.polygon.label : ''))
    .filter(Boolean);

async function runUninterrupted(runId: string): Promise<{
  events: Event[];
  watch: RulesRunWatch;
}> {
  const collect = await durableConsumer(runId);
  const watch = new RulesRunWatch(bus, runId);
  await startBoth(vtestRun(runId));
  await untilDone(watch);
  // Events are acked by JetStream before the overlay of their frame is published.
  const events = await collect();
  return { events, watch };
}

test(
  'vtest.avi with a line across the hall: identical events and counts in two runs, every event on a real frame',
  { timeout: 400_000 },
  async () => {
    const [a, b] = await Promise.all([
      runUninterrupted(`rla-${process.pid}`),
      runUninterrupted(`rlb-${process.pid}`),
    ]);
    const crossings = a.events.filter((e) => e.kind === 'line_cross');
    assert.ok(crossings.length >= 3, `${crossings.length} line crossings`);
    assert.ok(
      a.events.some((e) => e.kind === 'zone_enter'),
      'zone_enter events',
    );
    assert.deepEqual(a.events.map(normalize), b.events.map(normalize));
    const lastA = overlayLabels(a.watch.overlays.at(-1));
    assert.deepEqual(lastA, overlayLabels(b.watch.overlays.at(-1)));
    assert.ok(
      lastA.some((l) => l.startsWith('mid: ')),
      `line label in ${lastA.join(', ')}`,
    );

    for (const run of [a, b]) {
      const runId = run.watch.runId;
      const seqs = new Set(run.watch.detections.map((d) => d.frame?.seq ?? 0));
      assert.equal(seqs.size, VTEST_FRAMES);
      assert.equal(new Set(run.events.map((e) => e.id)).size, run.events.length, 'unique ids');
      for (const e of run.events) {
        const f = e.frame;
        assert.ok(f, `event ${e.id} without a frame`);
        assert.equal(f.runId, runId);
        assert.ok(f.seq >= 1 && f.seq <= VTEST_FRAMES && seqs.has(f.seq), `frame ${f.seq}`);
        assert.equal(f.width, 768);
        assert.equal(e.tenantId, 'test');
        assert.equal(e.runId, runId);
        assert.ok(e.trackIds.length > 0 && e.trackIds.every((t) => t > 0));
        assert.ok(e.objects.length > 0 && e.objects.every((o) => o.label === 'person' && o.box));
      }
      // An overlay per processed frame: zone and line with counts, tracked boxes in pixels.
      assert.equal(run.watch.overlays.length, VTEST_FRAMES);
      const withBoxes = run.watch.overlays.find((o) =>
        o.shapes.some((s) => s.shape?.$case === 'box' && s.shape.box.label.startsWith('#')),
      );
      assert.ok(withBoxes, 'boxes with track ids');
      const poly = withBoxes.shapes.find((s) => s.shape?.$case === 'polygon');
      assert.ok(poly?.shape?.$case === 'polygon' && poly.shape.polygon.points.length === 4);
      assert.ok(
        run.watch.overlays.some((o) =>
          o.shapes.some((s) => s.shape?.$case === 'box' && s.shape.box.highlight),
        ),
        'highlighted boxes',
      );
    }
    reference = { events: a.events.map(normalize), lastOverlay: lastA };
  },
);

test(
  'kill -9 mid-run: the restarted rules service resumes from KV; no event lost, none delivered twice',
  { timeout: 500_000 },
  async () => {
    if (!reference) {
      const r = await runUninterrupted(`rlr-${process.pid}`);
      reference = {
        events: r.events.map(normalize),
        lastOverlay: overlayLabels(r.watch.overlays.at(-1)),
      };
    }
    const runId = `rlk-${process.pid}`;
    const collect = await durableConsumer(runId);
    const watch = new RulesRunWatch(bus, runId);
    const run = vtestRun(runId);
    await startBoth(run);
    await watch.until(
      () => (watch.detections.length >= 300 ? true : undefined),
      120_000,
      '300 frames',
    );

    // Mid-run: pause the source's stage, kill rules with whatever it holds in memory.
    let killedFrames = 0;
    let restoredAt = 0;
    let replayed = 0;
    const ingestPid = node.ingest.child.pid;
    assert.ok(ingestPid);
    process.kill(ingestPid, 'SIGSTOP');
    try {
      killedFrames = watch.lastDetectionSeq() - watch.lastOverlaySeq();
      const gone = new Promise((r) => rules.child.once('exit', r));
      rules.child.kill('SIGKILL');
      await gone;
      await bus.flush();
      await new Promise((r) => setTimeout(r, 300));
      const published = watch.detections.slice();
      const lastPublished = watch.lastDetectionSeq();

      rules = await startServiceProcess('rules', rulesEnv());
      // Overlays the killed process drew are not proof the new one caught up.
      const restartedAt = watch.overlays.length;
      const kv = await bus.nc.jetstream().views.kv('sie_rules_state');
      const entry = await kv.get(runId);
      assert.ok(entry, 'a snapshot in KV');
      const snap = JSON.parse(new TextDecoder().decode(entry.value)) as { lastSeq: number };
      assert.ok(snap.lastSeq >= 1 && snap.lastSeq <= lastPublished, `snapshot at ${snap.lastSeq}`);
      restoredAt = snap.lastSeq;

      const again = await startStageRun(bus, node.nodeId, 'rules', run);
      assert.equal(again.accepted, true, again.error?.message);
      // What ingest had sent after the restored snapshot, sent again in order.
      const replay = published
        .filter((d) => (d.frame?.seq ?? 0) > snap.lastSeq)
        .sort((x, y) => (x.frame?.seq ?? 0) - (y.frame?.seq ?? 0));
      replayed = replay.length;
      for (const d of replay) {
        bus.nc.publish(detectionsSubject(runId), FrameDetections.encode(d).finish());
      }
      await bus.flush();
      // Replayed frames and ingest's next ones come from two connections: let rules finish the
      // replay before ingest goes on, so frames reach it in order.
      if (replay.length > 0) await watch.overlayFor(lastPublished, 30_000, restartedAt);
    } finally {
      process.kill(ingestPid, 'SIGCONT');
    }
    await untilDone(watch);
    const events = await collect();

    process.stderr.write(
      `# killed with ${killedFrames} frame(s) not yet drawn; restored snapshot at ${restoredAt}, ` +
        `replayed ${replayed} frame(s)\n`,
    );
    const ids = events.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'an event id delivered twice');
    assert.deepEqual(events.map(normalize), reference.events);
    assert.deepEqual(overlayLabels(watch.overlays.at(-1)), reference.lastOverlay);
  },
);
