import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineSpec } from '@sie/contracts';
import { pipelineConfigSchema, runOutputSchema, toPipelineSpec } from './index.js';

test('an empty pipeline gets every default', () => {
  const c = pipelineConfigSchema.parse({});
  assert.equal(c.scoreThreshold, 0.3);
  assert.deepEqual(c.retry, {
    startupAttempts: 3,
    reconnectAttempts: 5,
    intervalMs: 2000,
    backoff: 'fixed',
    maxIntervalMs: 30000,
  });
});

test('every bad field is reported with its path', () => {
  const r = pipelineConfigSchema.safeParse({
    scoreThreshold: 2,
    retry: { startupAttempts: 0, bogus: 1 },
    zones: [
      {
        id: 'z',
        polygon: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
    colour: 'red',
  });
  assert.equal(r.success, false);
  const paths = r.error.issues.map((i) => [...i.path, ...('keys' in i ? i.keys : [])].join('.'));
  for (const p of [
    'scoreThreshold',
    'retry.startupAttempts',
    'retry.bogus',
    'zones.0.polygon',
    'colour',
  ]) {
    assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`);
  }
});

test('output paths cannot climb out of the server root', () => {
  assert.equal(runOutputSchema.safeParse({ path: 'cams/door' }).success, true);
  assert.equal(runOutputSchema.safeParse({ path: 'cams/../../etc' }).success, false);
  assert.equal(runOutputSchema.safeParse({ path: '/abs' }).success, false);
});

test('the wire form round-trips through protobuf', () => {
  const spec = toPipelineSpec(
    'm1',
    pipelineConfigSchema.parse({ classes: ['person'], sampleFps: 5, scoreThreshold: 0.5 }),
  );
  const back = PipelineSpec.decode(PipelineSpec.encode(spec).finish());
  assert.deepEqual(back, spec);
  assert.deepEqual(JSON.parse(back.rulesJson).zones, []);
});
