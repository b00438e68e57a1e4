/**
 * Three schedulers, thirty runs: every run starts exactly once (one placement, generation 1, one
 * ffmpeg, one heartbeat stream per stage), and when one scheduler is killed with SIGKILL midway
 * the others take over its runs once their leases run out, without restarting them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { allHeartbeatsSubject, controlSubject } from '@sie/bus';
import { Heartbeat, NodePingRequest, NodeStatus, Stage } from '@sie/contracts';
import type { ServiceProcess } from './support/service-process.js';
import {
  createPipeline,
  enqueueRun,
  ffmpegChildren,
  getRuns,
  makeSmallVideo,
  requestStop,
  startNode,
  startScheduler,
  startStack,
  transitions,
  until,
  type Node,
  type Stack,
} from './support/scheduler-stack.js';

const LEASE_MS = 4000;
const RUNS = 30;
let stack: Stack;
let node: Node;
let videoDir: string;
const schedulers = new Map<string, ServiceProcess>();

before(async () => {
  videoDir = mkdtempSync(join(tmpdir(), 'sie-sched-video-'));
  stack = await startStack();
  node = await startNode(stack, `scale-${process.pid}`, { SIE_MAX_RUNS: '40' });
  await Promise.all(
    ['sched-1', 'sched-2', 'sched-3'].map(async (id) => {
      schedulers.set(
        id,
        await startScheduler(stack, id, {
          SIE_LEASE_MS: String(LEASE_MS),
          // Small batches, so every scheduler gets a share of the work.
          SIE_BATCH_SIZE: '4',
        }),
      );
    }),
  );
});

after(async () => {
  await stack?.close();
  rmSync(videoDir, { recursive: true, force: true });
});

async function ping(stage: 'ingest' | 'rules' | 'render'): Promise<string[]> {
  const s = await stack.bus.request(
    controlSubject(node.nodeId, stage, 'ping'),
    NodePingRequest,
    {},
    NodeStatus,
    2000,
  );
  return s.runIds;
}

test(
  '30 runs, 3 schedulers, one killed midway: every run started exactly once and adopted',
  { timeout: 150_000 },
  async (t) => {
    const video = makeSmallVideo(videoDir);
    const pipelineId = await createPipeline(stack, { sampleFps: 1 });
    const source = { url: video, loop: true, realtime: true };
    const beats: Heartbeat[] = [];
    stack.bus.subscribe(allHeartbeatsSubject(), Heartbeat, (hb) => void beats.push(hb));

    const allActive = (ids: string[], timeoutMs: number) =>
      until(
        `${ids.length} runs active`,
        async () => {
          const rows = await getRuns(stack, ids);
          const bad = rows.find((r) => r.status === 'failed' || r.status === 'inactive');
          if (bad) throw new Error(`run ${bad.id} ${bad.status}: ${bad.reasonMessage}`);
          return rows.every((r) => r.status === 'active') && rows;
        },
        timeoutMs,
        250,
      );

    const started = Date.now();
    const first: string[] = [];
    for (let i = 0; i < RUNS / 2; i++) first.push(await enqueueRun(stack, pipelineId, source));
    const firstRows = await allActive(first, 60_000);
    t.diagnostic(`${first.length} runs active in ${Date.now() - started} ms`);

    // Kill the scheduler holding the most runs, and go on enqueueing.
    const held = new Map<string, number>();
    for (const r of firstRows) held.set(r.leaseOwner!, (held.get(r.leaseOwner!) ?? 0) + 1);
    const [victim, victimRuns] = [...held].sort((a, b) => b[1] - a[1])[0]!;
    const killedAt = Date.now();
    schedulers.get(victim)!.child.kill('SIGKILL');
    const second: string[] = [];
    for (let i = 0; i < RUNS / 2; i++) second.push(await enqueueRun(stack, pipelineId, source));
    const ids = [...first, ...second];
    await allActive(ids, 60_000);
    const rows = await until(
      `the runs of ${victim} adopted`,
      async () => {
        const all = await getRuns(stack, ids);
        return all.every((r) => r.leaseOwner && r.leaseOwner !== victim) && all;
      },
      LEASE_MS + 20_000,
      200,
    );
    t.diagnostic(
      `${victim} held ${victimRuns} runs, killed; all ${ids.length} active and adopted ${Date.now() - killedAt} ms later; ` +
        `held by ${JSON.stringify(Object.fromEntries(held))} before the kill`,
    );
    assert.ok(held.size >= 2, `one scheduler placed every run: ${JSON.stringify([...held])}`);

    // Exactly once: one placement, generation 1, one run per stage on the node, one ffmpeg each.
    const placers = new Set<string>();
    for (const r of rows) {
      assert.equal(r.status, 'active');
      assert.equal(r.leaseGeneration, 1, `run ${r.id} generation`);
      assert.equal(r.restarts, 0);
      const history = await transitions(stack, r.id);
      assert.deepEqual(
        history.map((h) => h.toStatus),
        ['init_startup', 'in_startup_processing', 'active'],
        `run ${r.id}`,
      );
      placers.add(history[1]!.actor);
    }
    for (const stage of ['ingest', 'rules', 'render'] as const) {
      const held = await ping(stage);
      assert.equal(held.length, RUNS, `${stage} holds ${held.length} runs`);
      assert.deepEqual([...held].sort(), [...ids].sort(), stage);
    }
    assert.equal(ffmpegChildren(node.ingest.child.pid!).length, RUNS, 'ffmpeg processes');

    // One heartbeat stream per (run, stage): over a 3 s window, no more beats than one sender
    // sends (every 1 s), all from the node at generation 1.
    const windowStart = Date.now();
    const before = beats.length;
    await new Promise((r) => setTimeout(r, 3000));
    const window = beats.slice(before);
    const perStream = new Map<string, Heartbeat[]>();
    for (const hb of window) {
      const key = `${hb.runId}/${Stage[hb.stage]}`;
      perStream.set(key, [...(perStream.get(key) ?? []), hb]);
    }
    assert.equal(perStream.size, RUNS * 3, 'a stage of some run does not beat');
    for (const [key, list] of perStream) {
      assert.ok(list.length <= 4, `${key}: ${list.length} heartbeats in 3 s`);
      assert.deepEqual(
        new Set(list.map((hb) => `${hb.nodeId}@${hb.generation}`)),
        new Set([`${node.nodeId}@1`]),
        key,
      );
    }
    t.diagnostic(
      `heartbeats in ${Date.now() - windowStart} ms: ${window.length} over ${perStream.size} streams; placed by ${[...placers].join(', ')}`,
    );

    // And every run stops.
    const stopAt = Date.now();
    for (const id of ids) await requestStop(stack, id);
    await until(
      'all runs inactive',
      async () => (await getRuns(stack, ids)).every((r) => r.status === 'inactive'),
      40_000,
      250,
    );
    t.diagnostic(`${ids.length} runs stopped in ${Date.now() - stopAt} ms`);
    assert.equal(ffmpegChildren(node.ingest.child.pid!).length, 0);
  },
);
