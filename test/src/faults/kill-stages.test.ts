/**
 * The fast part of the kill -9 faults: with four active runs on RTSP cameras, each of the node's
 * processes (ingest, inference, rules, render) is killed in turn; the supervisor restarts it and
 * every run is back to delivering frames within the lease plus a start, with consistent states.
 */
import { after, before, test } from 'node:test';
import { LEASE_MS, killAndRecover, startFourRuns } from './kill-cases.js';
import type { RunMonitor } from './monitor.js';
import { FaultStack } from './stack.js';

let stack: FaultStack;
let monitor: RunMonitor;

before(async () => {
  stack = new FaultStack({ leaseMs: LEASE_MS });
  await stack.start();
  monitor = await startFourRuns(stack);
});

after(async () => {
  await stack?.close();
});

for (const name of ['ingest', 'inference', 'rules', 'render'] as const) {
  test(
    `kill -9 ${name}: four runs deliver again, states stay consistent`,
    { timeout: 150_000 },
    (t) => killAndRecover(t, stack, monitor, name),
  );
}
