/**
 * kill -9 of one process of the stack while four runs are active, shared by the fast part
 * (the node's stages and inference) and the slow part (every process).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { recordReliability } from '../support/reliability-log.js';
import { assertConsistent } from './consistency.js';
import { RunMonitor, type WatchedRun } from './monitor.js';
import type { FaultStack } from './stack.js';
import type { ProcName } from './supervisor.js';

export const LEASE_MS = 4000;
export const RUN_COUNT = 4;

/** Four runs, each on its own RTSP camera, active and delivering. */
export async function startFourRuns(stack: FaultStack): Promise<RunMonitor> {
  const pipelineId = await stack.createPipeline('kill', {
    retry: { startupAttempts: 5, reconnectAttempts: 30, intervalMs: 1000 },
  });
  const runs: WatchedRun[] = [];
  for (let i = 1; i <= RUN_COUNT; i++) {
    const url = await stack.cameras.publish(`cam${i}`, stack.video);
    const outputPath = `kill/cam${i}`;
    const id = await stack.createRun(pipelineId, { url }, outputPath);
    runs.push({ id, outputPath });
  }
  const monitor = new RunMonitor(stack, runs);
  await monitor.waitDelivering(Date.now(), 120_000);
  return monitor;
}

/** What recovering from the kill of `name` has to include, beyond the runs delivering. */
async function serviceBack(
  stack: FaultStack,
  name: ProcName,
  ids: string[],
  killedAt: number,
): Promise<void> {
  await stack.proc(name).waitHealthy();
  if (name === 'api') {
    const res = await stack.api('GET', '/v1/runs');
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
  if (name === 'scheduler') {
    // The restarted scheduler took the runs over: their leases are renewed past the kill.
    const deadline = Date.now() + LEASE_MS + 30_000;
    for (;;) {
      const rows = await stack.runs(ids);
      const held = rows.every((r) => (r.leaseExpiresAt?.getTime() ?? 0) > killedAt + LEASE_MS);
      if (held) break;
      assert.ok(Date.now() < deadline, 'no scheduler renews the leases after the kill');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function killAndRecover(
  t: TestContext,
  stack: FaultStack,
  monitor: RunMonitor,
  name: ProcName,
): Promise<void> {
  const ids = monitor.runs.map((r) => r.id);
  const before = await stack.runs(ids);
  const restartsBefore = before.reduce((n, r) => n + r.restarts, 0);
  const proc = stack.proc(name);
  const oldPid = proc.kill9();
  const killedAt = Date.now();
  // Startup of a process on a busy machine plus a lease and a run restart.
  const perRun = await monitor.waitDelivering(killedAt, LEASE_MS + 90_000);
  await serviceBack(stack, name, ids, killedAt);
  // Fully recovered: every run delivering and the killed service itself back at work.
  const recoverMs = Date.now() - killedAt;
  assert.notEqual(proc.pid, oldPid, `${name} was not restarted`);
  await assertConsistent(stack, ids);
  const after = await stack.runs(ids);
  const restarts = after.reduce((n, r) => n + r.restarts, 0) - restartsBefore;
  const times = [...perRun.values()];
  const worst = Math.max(...times);
  t.diagnostic(
    `kill -9 ${name}: runs delivering again after ${times.map((ms) => `${ms} ms`).join(', ')}; ${restarts} run restart(s)`,
  );
  recordReliability({
    suite: 'fault',
    name: `kill -9 ${name}`,
    outcome: 'recovered',
    recoverMs,
    dataLost: 'none',
    detail: `${name} back${name === 'scheduler' ? ' and holding the leases again' : ''}; ${ids.length} runs back to delivering (detections, rules, RTSP output) after ${Math.min(...times)}–${worst} ms; ${restarts} run restart(s) (lease ${LEASE_MS} ms); states consistent, no duplicate placement; live frames during the gap are skipped, not queued`,
  });
}
