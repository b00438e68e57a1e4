import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineSpec } from '@sie/contracts';
import { isUnderRoot, pipelineConfigSchema, runOutputSchema, toPipelineSpec } from './index.js';

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

test('snapshots and capture are off by default and travel only when on', () => {
  const off = pipelineConfigSchema.parse({});
  assert.equal(off.snapshots.enabled, false);
  assert.equal(off.snapshots.maxCount, 200);
  assert.equal(off.snapshots.maxAgeMs, 7 * 86_400_000);
  assert.equal(off.capture.enabled, false);
  const offSpec = toPipelineSpec('m', off);
  assert.equal(offSpec.snapshotsJson, '');
  assert.equal(offSpec.captureJson, '');
  const on = pipelineConfigSchema.parse({
    snapshots: { enabled: true, maxCount: 3 },
    capture: {
      enabled: true,
      everyNthFrame: 10,
      destination: { type: 'local', dir: '/data/capture/door' },
    },
  });
  const spec = toPipelineSpec('m', on);
  assert.equal(JSON.parse(spec.snapshotsJson).maxCount, 3);
  assert.equal(JSON.parse(spec.captureJson).destination.dir, '/data/capture/door');
});

test('capture settings: every bad field named, credentials only by env var name', () => {
  const r = pipelineConfigSchema.safeParse({
    snapshots: { enabled: true, maxCount: 0, colour: 1 },
    capture: {
      enabled: true,
      destination: { type: 'local', dir: '/data/../etc' },
    },
  });
  assert.equal(r.success, false);
  const paths = r.error.issues.map((i) => [...i.path, ...('keys' in i ? i.keys : [])].join('.'));
  for (const p of [
    'snapshots.maxCount',
    'snapshots.colour',
    'capture.everyNthFrame',
    'capture.destination.dir',
  ]) {
    assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`);
  }
  const s3 = pipelineConfigSchema.safeParse({
    capture: {
      enabled: true,
      intervalMs: 1000,
      destination: {
        type: 's3',
        endpoint: 'http://127.0.0.1:9000',
        bucket: 'frames',
        accessKeyIdEnv: 'CAPTURE_KEY',
        secretAccessKeyEnv: 'CAPTURE_SECRET',
        secretAccessKey: 'inline secrets are refused',
      },
    },
  });
  assert.equal(s3.success, false);
  assert.ok(
    s3.error.issues.some((i) => 'keys' in i && i.keys.includes('secretAccessKey')),
    'an inline secret is an unknown key',
  );
  assert.equal(
    pipelineConfigSchema.safeParse({
      capture: { enabled: true, destination: { type: 'ftp', dir: '/x' }, everyNthFrame: 1 },
    }).success,
    false,
  );
});

test('a capture directory must lie under the node root', () => {
  assert.equal(isUnderRoot('/data/capture/door', '/data/capture'), true);
  assert.equal(isUnderRoot('/data/capture', '/data/capture'), true);
  assert.equal(isUnderRoot('/data/captures', '/data/capture'), false);
  assert.equal(isUnderRoot('/etc', '/data/capture'), false);
});
