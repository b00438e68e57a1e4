import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@sie/config';
import { ConfigError } from '@sie/errors';
import { INGEST_ENV_ALIASES, ingestConfigSchema } from './index.js';

const load = (env: Record<string, string>) =>
  loadConfig({ schema: ingestConfigSchema, env, argv: [], envAliases: INGEST_ENV_ALIASES });

test('defaults: ops port 9101, inference on 127.0.0.1:50051, fixed 2 s retries', () => {
  const c = load({});
  assert.equal(c.ops.port, 9101);
  assert.equal(c.inference.url, '127.0.0.1:50051');
  assert.equal(c.heartbeatIntervalMs, 1000);
  assert.equal(c.frameStoreSlots, 8);
  assert.deepEqual(c.retry, {
    startupAttempts: 3,
    reconnectAttempts: 5,
    intervalMs: 2000,
    backoff: 'fixed',
    maxIntervalMs: 30_000,
  });
  assert.equal(c.mediaRoot, undefined);
  assert.equal(c.allowDevices, false);
});

test('SIE_INFERENCE_URL and generated variables set keys; unknown keys fail', () => {
  const c = load({
    SIE_INFERENCE_URL: 'inference:6000',
    SIE_RETRY__BACKOFF: 'exponential',
    SIE_MAX_RUNS: '3',
    SIE_MEDIA_ROOT: '/srv/media',
  });
  assert.equal(c.inference.url, 'inference:6000');
  assert.equal(c.retry.backoff, 'exponential');
  assert.equal(c.maxRuns, 3);
  assert.equal(c.mediaRoot, '/srv/media');
  assert.throws(() => ingestConfigSchema.parse({ inference: { uri: 'x' } }));
  assert.throws(() => load({ SIE_RETRY__BACKOFF: 'linear' }), ConfigError);
});
