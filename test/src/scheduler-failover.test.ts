/**
 * A node that stops answering: its runs' stages fall silent, their leases run out and the
 * scheduler restarts them on another node (a second set of ingest, rules and render processes);
 * a run that loses its stages again after using up its restarts fails with restart_limit.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { controlSubject } from '@sie/bus';
import { NodePingRequest, NodeStatus } from '@sie/contracts';
import { asset } from './support/env.js';
import {
  createPipeline,
  enqueueRun,
  getRuns,
  startNode,
  startScheduler,
  startStack,
  transitions,
  until,
  waitForStatus,
  type Node,
  type Stack,
} from './support/scheduler-stack.js';

const LEASE_MS = 3000;
let stack: Stack;
let nodeA: Node;

before(async () => {
  stack = await startStack();
  nodeA = await startNode(stack, `fail-a-${process.pid}`);
  await startScheduler(stack, 'sched-fail', {
    SIE_LEASE_MS: String(LEASE_MS),
    SIE_MAX_RESTARTS: '1',
    SIE_COMMAND_TIMEOUT_MS: '2000',
  });
});

after(async () => {
  await stack?.close();
});

async function ingestRuns(node: Node): Promise<string[]> {
  const status = await stack.bus.request(
    controlSubject(node.nodeId, 'ingest', 'ping'),
    NodePingRequest,
    {},
    NodeStatus,
    2000,
  );
  return status.runIds;
}

test(
  'runs of a node whose ingest stops answering restart on another node; then restart_limit',
  { timeout: 120_000 },
  async (t) => {
    const pipelineId = await createPipeline(stack, { sampleFps: 1 });
    const source = { url: asset('media/vtest.avi'), loop: true, realtime: true };
    const ids = [
      await enqueueRun(stack, pipelineId, source),
      await enqueueRun(stack, pipelineId, source),
    ];
    for (const id of ids) {
      assert.equal((await waitForStatus(stack, id, 'active', 45_000)).nodeId, nodeA.nodeId);
    }
    const nodeB = await startNode(stack, `fail-b-${process.pid}`);

    // Node A's ingest stops answering anything (as a hung or partitioned process would).
    const stoppedAt = Date.now();
    nodeA.ingest.child.kill('SIGSTOP');
    const moved = await until(
      'both runs active on node B',
      async () => {
        const rows = await getRuns(stack, ids);
        return rows.every((r) => r.status === 'active' && r.nodeId === nodeB.nodeId) && rows;
      },
      LEASE_MS + 30_000,
      200,
    );
    const restartTook = Date.now() - stoppedAt;
    t.diagnostic(
      `node A's ingest stopped → runs active on node B in ${restartTook} ms (lease ${LEASE_MS} ms)`,
    );
    for (const run of moved) {
      assert.equal(run.leaseGeneration, 2);
      assert.equal(run.restarts, 1);
      const history = await transitions(stack, run.id);
      assert.deepEqual(
        history.map((h) => `${h.toStatus}/${h.reasonCode}`),
        [
          'init_startup/created',
          'in_startup_processing/placed',
          'active/source_connected',
          'init_startup/restart',
          'in_startup_processing/placed',
          'active/source_connected',
        ],
      );
      assert.match(
        history[3]?.message ?? '',
        new RegExp(`ingest silent .* on node ${nodeA.nodeId}`),
      );
    }
    assert.deepEqual((await ingestRuns(nodeB)).sort(), [...ids].sort());
    // Lease (3 s) + poll + a start on the new node.
    assert.ok(restartTook < LEASE_MS + 12_000, `restart took ${restartTook} ms`);

    // Node B's ingest dies too: the runs already used their one restart.
    const killedAt = Date.now();
    nodeB.ingest.child.kill('SIGKILL');
    for (const id of ids) {
      const failed = await waitForStatus(stack, id, 'failed', LEASE_MS + 20_000);
      assert.equal(failed.reasonCode, 'restart_limit');
      assert.match(failed.reasonMessage ?? '', /ingest silent/);
    }
    t.diagnostic(`node B's ingest killed → failed/restart_limit in ${Date.now() - killedAt} ms`);
  },
);
