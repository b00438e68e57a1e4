import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RUN_FPS, expectedRunFps } from '@sie/pipeline';
import { admits, unschedulableNodes, usedFpsOf } from './fleet.js';

test('admission: a run fits while the node stays within its fps capacity; 0 refuses nothing', () => {
  assert.equal(admits({ capacityFps: 10, usedFps: 5, runFps: 5 }), true);
  assert.equal(admits({ capacityFps: 10, usedFps: 10, runFps: 5 }), false);
  assert.equal(admits({ capacityFps: 10, usedFps: 6, runFps: 5 }), false);
  assert.equal(admits({ capacityFps: 0, usedFps: 500, runFps: 25 }), true);
});

test("a run's expected fps: its pipeline's sampleFps cap, else the default", () => {
  assert.equal(expectedRunFps({ sampleFps: 5 }), 5);
  assert.equal(expectedRunFps({ sampleFps: 0 }), DEFAULT_RUN_FPS);
  assert.equal(expectedRunFps({}), DEFAULT_RUN_FPS);
  assert.equal(expectedRunFps(null), DEFAULT_RUN_FPS);
});

test('used fps: runs in the database plus placements in flight, each counted once', () => {
  const held = new Map([
    ['r1', 5],
    ['r2', 10],
  ]);
  assert.equal(usedFpsOf(held, undefined), 15);
  // r2 is both committed and still reserved: once.
  assert.equal(
    usedFpsOf(
      held,
      new Map([
        ['r2', 10],
        ['r3', 25],
      ]),
    ),
    40,
  );
  assert.equal(usedFpsOf(undefined, undefined), 0);
});

test('draining and drained nodes take no runs; nodes with no row are ready', () => {
  const blocked = unschedulableNodes({
    settings: new Map([
      ['a', { state: 'draining', capacityFps: null, message: null }],
      ['b', { state: 'drained', capacityFps: null, message: null }],
      ['c', { state: 'ready', capacityFps: 10, message: null }],
    ]),
    runs: new Map(),
  });
  assert.deepEqual([...blocked].sort(), ['a', 'b']);
});
