/**
 * The slow part of the kill -9 faults (`pnpm test:faults`): every process of the stack in turn
 * (the API, the scheduler, the RTSP server, then the node's stages and inference) with four
 * active runs; each time every run is back to delivering frames and states stay consistent.
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

const ALL = ['api', 'scheduler', 'rtsp', 'ingest', 'inference', 'rules', 'render'] as const;
for (const name of ALL) {
  test(
    `kill -9 ${name} (all seven): four runs deliver again, states stay consistent`,
    { timeout: 150_000 },
    (t) => killAndRecover(t, stack, monitor, name),
  );
}
