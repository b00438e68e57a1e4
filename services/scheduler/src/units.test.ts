import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@sie/config';
import { Stage, type NodeStatus } from '@sie/contracts';
import { START_ORDER, STOP_ORDER, orderStages } from './commands.js';
import { SCHEDULER_ENV_ALIASES, schedulerConfigSchema } from './config.js';
import { HeartbeatTable, leaseDecision } from './heartbeats.js';
import { NodeDirectory, chooseNode, rankNodes, type NodeView } from './placement.js';
import {
  failureMessage,
  isModelFault,
  isRecoverableRefusal,
  reasonForErrorCode,
} from './reasons.js';

test('stage error codes map onto the run reason codes', () => {
  const cases: Array<[string | undefined, string]> = [
    ['source_unreachable', 'source_unreachable'],
    ['source_invalid', 'source_unreachable'],
    ['source_lost', 'source_lost'],
    ['model_error', 'model_error'],
    ['model_not_found', 'model_error'],
    ['config_invalid', 'config_error'],
    ['invalid_argument', 'config_error'],
    ['frame_store_error', 'internal_error'],
    ['timeout', 'internal_error'],
    [undefined, 'internal_error'],
  ];
  for (const [code, reason] of cases) assert.equal(reasonForErrorCode(code), reason, String(code));
  assert.match(
    failureMessage('ingest', { code: 'source_invalid', message: 'x.txt: no video stream' }),
    /^ingest: source is not a usable video \(source_invalid\): x.txt: no video stream$/,
  );
  assert.equal(failureMessage('rules', undefined), 'rules: no message');
  for (const code of ['source_invalid', 'invalid_argument', 'config_invalid', 'model_not_found']) {
    assert.equal(isRecoverableRefusal(code), false, code);
  }
  for (const code of ['unavailable', 'timeout', 'stale_generation', 'internal_error']) {
    assert.equal(isRecoverableRefusal(code), true, code);
  }
  // A failed LoadModel: the model's own fault fails the run, inference down or slow is retried.
  for (const code of ['model_error', 'model_not_found', 'invalid_argument', 'config_invalid']) {
    assert.equal(isModelFault(code), true, code);
  }
  for (const code of ['unavailable', 'timeout', 'internal_error', undefined]) {
    assert.equal(isModelFault(code), false, String(code));
  }
});

function status(
  nodeId: string,
  stage: string,
  capacity: number,
  runIds: string[] = [],
  announceIntervalMs = 2000,
): NodeStatus {
  return {
    nodeId,
    stage,
    runIds,
    capacity,
    maxRuns: capacity + runIds.length,
    capacityFps: 0,
    atMs: 0,
    announceIntervalMs,
  };
}

function view(nodeId: string, stages: Record<string, [number, string[], number?]>): NodeView {
  return {
    nodeId,
    stages: new Map(
      Object.entries(stages).map(([stage, [capacity, runIds, receivedAt]]) => [
        stage,
        { status: status(nodeId, stage, capacity, runIds), receivedAt: receivedAt ?? 1000 },
      ]),
    ),
  };
}

const STAGES = ['ingest', 'rules', 'render'];

test('placement: every stage present with room, least loaded first, silent nodes out', () => {
  const nodes = [
    view('a', { ingest: [2, ['r1', 'r2']], rules: [10, ['r1', 'r2']], render: [10, ['r1', 'r2']] }),
    view('b', { ingest: [5, ['r3']], rules: [1, ['r3']], render: [9, []] }),
    view('c', { ingest: [8, []], rules: [8, []] }), // no render
    view('d', { ingest: [8, []], rules: [8, []], render: [0, ['x']] }), // render full
    view('e', { ingest: [9, []], rules: [9, []], render: [9, [], 0] }), // render silent
  ];
  const now = 1000 + 5999; // e's render was last heard 7 s ago: more than 3 × 2 s
  assert.deepEqual(
    rankNodes({ nodes, stages: STAGES, now, silenceMs: 0 }).map((c) => [c.nodeId, c.free, c.load]),
    [
      ['b', 1, 1],
      ['a', 2, 2],
    ],
  );
  // An explicit silence limit overrides the announce interval.
  assert.equal(chooseNode({ nodes, stages: STAGES, now, silenceMs: 7000 })?.nodeId, 'e');
  // Pending placements count against a node; excluded and avoided nodes.
  const pending = new Map([['b', 1]]);
  assert.equal(chooseNode({ nodes, stages: STAGES, now, silenceMs: 0, pending })?.nodeId, 'a');
  assert.equal(
    chooseNode({ nodes, stages: STAGES, now, silenceMs: 0, exclude: new Set(['b']) })?.nodeId,
    'a',
  );
  assert.equal(
    chooseNode({ nodes, stages: STAGES, now, silenceMs: 0, avoid: new Set(['b']) })?.nodeId,
    'a',
  );
  assert.equal(
    chooseNode({ nodes, stages: STAGES, now, silenceMs: 0, avoid: new Set(['a', 'b']) })?.nodeId,
    'b',
    'an avoided node is still used when nothing else fits',
  );
  assert.equal(chooseNode({ nodes, stages: ['ingest'], now, silenceMs: 0 })?.nodeId, 'e');
  assert.equal(chooseNode({ nodes: [], stages: STAGES, now, silenceMs: 0 }), undefined);
});

test('the node directory counts its own placements until the node announces them', () => {
  let now = 0;
  const dir = new NodeDirectory(() => now, 0);
  for (const stage of STAGES) dir.update(status('n1', stage, 2, []));
  assert.deepEqual(
    dir.rank(STAGES).map((c) => c.free),
    [2],
  );
  dir.notePlaced('n1', 'r1');
  dir.notePlaced('n1', 'r2');
  assert.deepEqual(dir.rank(STAGES), []);
  now = 100;
  for (const stage of STAGES) dir.update(status('n1', stage, 1, ['r1']));
  // r1 is announced now; r2 still counts until the node shows it (or long enough has passed).
  assert.deepEqual(dir.rank(STAGES), []);
  now = 5000; // r2 was never announced: refused or gone, it stops counting
  for (const stage of STAGES) dir.update(status('n1', stage, 1, ['r1']));
  assert.deepEqual(
    dir.rank(STAGES).map((c) => c.free),
    [1],
  );
  assert.equal(dir.knownNodes(), 1);
  assert.ok(dir.present('n1', 'ingest'));
  now = 5000 + 6001;
  assert.equal(dir.knownNodes(), 0);
  assert.ok(!dir.present('n1', 'ingest'));
});

test('heartbeats: the newest generation per stage, ages by receipt', () => {
  let now = 0;
  const beats = new HeartbeatTable(() => now);
  beats.record({ runId: 'r', stage: Stage.STAGE_INGEST, generation: 2, nodeId: 'a' });
  now = 10;
  beats.record({ runId: 'r', stage: Stage.STAGE_INGEST, generation: 1, nodeId: 'old' });
  assert.equal(beats.last('r', 'ingest', 2), 0);
  assert.equal(beats.last('r', 'ingest', 1), undefined, 'an old generation replaced the new one');
  now = 20;
  beats.record({ runId: 'r', stage: Stage.STAGE_RULES, generation: 2, nodeId: 'a' });
  assert.equal(beats.last('r', 'rules', 2), 20);
  now = 1000;
  beats.prune(500);
  assert.equal(beats.size, 0);
});

test('lease decision: renew only while every stage beats, until the stalest runs out', () => {
  const last: Record<string, number | undefined> = { ingest: 9000, rules: 9500, render: 7000 };
  const input = {
    stages: STAGES,
    generation: 1,
    now: 10_000,
    leaseMs: 4000,
    last: (s: string) => last[s],
  };
  assert.deepEqual(leaseDecision(input), {
    alive: ['ingest', 'rules', 'render'],
    silent: [],
    renewForMs: 1000,
  });
  last.render = 6000; // exactly a lease ago: silent
  assert.deepEqual(leaseDecision(input), {
    alive: ['ingest', 'rules'],
    silent: ['render'],
    renewForMs: undefined,
  });
  last.render = undefined;
  assert.deepEqual(leaseDecision(input).silent, ['render']);
});

test('commands go consumers first on start and source first on stop', () => {
  assert.deepEqual(orderStages(['ingest', 'rules', 'render'], START_ORDER), [
    'render',
    'rules',
    'ingest',
  ]);
  assert.deepEqual(orderStages(['render', 'ingest', 'rules'], STOP_ORDER), [
    'ingest',
    'rules',
    'render',
  ]);
  assert.deepEqual(orderStages(['ingest'], START_ORDER), ['ingest']);
});

test('config: defaults, environment and refusals', () => {
  const c = loadConfig({
    schema: schedulerConfigSchema,
    env: {},
    argv: [],
    envAliases: SCHEDULER_ENV_ALIASES,
  });
  assert.match(c.schedulerId, new RegExp(`-${process.pid}$`));
  assert.equal(c.pollIntervalMs, 1000);
  assert.equal(c.leaseMs, 10_000);
  assert.equal(c.commandTimeoutMs, 5000);
  assert.equal(c.maxRestarts, 3);
  assert.deepEqual(c.stages, ['ingest', 'rules', 'render']);
  assert.equal(c.batchSize, 20);
  assert.equal(c.outbox.stream, 'SIE_STATUS');
  assert.equal(c.inferenceUrl, undefined);
  assert.equal(c.modelLoadTimeoutMs, 60_000);
  const env = loadConfig({
    schema: schedulerConfigSchema,
    argv: [],
    envAliases: SCHEDULER_ENV_ALIASES,
    env: {
      DATABASE_URL: 'postgres://x/y',
      SIE_LEASE_MS: '3000',
      SIE_STAGES: '["ingest"]',
      SIE_SCHEDULER_ID: 'sched-1',
      SIE_INFERENCE_URL: '127.0.0.1:50051',
      SIE_MODEL_LOAD_TIMEOUT_MS: '90000',
    },
  });
  assert.equal(env.databaseUrl, 'postgres://x/y');
  assert.equal(env.leaseMs, 3000);
  assert.deepEqual(env.stages, ['ingest']);
  assert.equal(env.schedulerId, 'sched-1');
  assert.equal(env.inferenceUrl, '127.0.0.1:50051');
  assert.equal(env.modelLoadTimeoutMs, 90_000);
  for (const bad of [
    { SIE_STAGES: '["rules"]' },
    { SIE_STAGES: '["gpu"]' },
    { SIE_LEASE_MS: '10' },
    { SIE_SCHEDULER_ID: 'a.b' },
  ]) {
    assert.throws(
      () => loadConfig({ schema: schedulerConfigSchema, argv: [], env: bad }),
      (e: Error) => e.name === 'ConfigError' || /config/i.test(e.message),
      JSON.stringify(bad),
    );
  }
});

test('a voided generation (a move given up) no longer hides the generation still running', () => {
  let now = 0;
  const beats = new HeartbeatTable(() => now);
  const beat = (generation: number) =>
    beats.record({ runId: 'r', stage: Stage.STAGE_INGEST, generation, nodeId: 'n' });
  beat(3);
  now = 100;
  beat(4); // the new node's ingest, before the move was given up
  assert.equal(beats.last('r', 'ingest', 3), undefined);
  beats.voidGeneration('r', 4);
  now = 200;
  beat(4); // a late beat of the stopped generation
  beat(3);
  assert.equal(beats.last('r', 'ingest', 3), 200);
  assert.equal(beats.last('r', 'ingest', 4), undefined);
});

test('a stage that did not answer is not placed on until it announces itself again', () => {
  const now = 0;
  const dir = new NodeDirectory(() => now, 0);
  for (const stage of STAGES) dir.update(status('n1', stage, 2, []));
  assert.equal(dir.rank(STAGES).length, 1);
  dir.forgetStage('n1', 'rules');
  assert.deepEqual(dir.rank(STAGES), []);
  dir.update(status('n1', 'rules', 2, []));
  assert.equal(dir.rank(STAGES).length, 1);
});
