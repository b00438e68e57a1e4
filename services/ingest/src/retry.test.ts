import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '@sie/errors';
import { resolveRetryPolicy, retryDelayMs } from './index.js';

const defaults = {
  startupAttempts: 3,
  reconnectAttempts: 5,
  intervalMs: 2000,
  backoff: 'fixed' as const,
  maxIntervalMs: 30_000,
};

test("a run's retry policy overrides the defaults field by field (zero means unset)", () => {
  assert.deepEqual(resolveRetryPolicy(defaults), defaults);
  assert.deepEqual(
    resolveRetryPolicy(defaults, {
      startupAttempts: 2,
      reconnectAttempts: 0,
      intervalMs: 200,
      backoff: '',
      maxIntervalMs: 0,
    }),
    { ...defaults, startupAttempts: 2, intervalMs: 200 },
  );
  assert.equal(
    resolveRetryPolicy(defaults, {
      startupAttempts: 0,
      reconnectAttempts: 0,
      intervalMs: 0,
      backoff: 'exponential',
      maxIntervalMs: 0,
    }).backoff,
    'exponential',
  );
  assert.throws(
    () =>
      resolveRetryPolicy(defaults, {
        startupAttempts: 0,
        reconnectAttempts: 0,
        intervalMs: 0,
        backoff: 'linear',
        maxIntervalMs: 0,
      }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === 'pipeline.retry.backoff',
  );
});

test('fixed backoff waits the interval every time', () => {
  assert.deepEqual(
    [1, 2, 10].map((a) => retryDelayMs(defaults, a)),
    [2000, 2000, 2000],
  );
});

test('exponential backoff doubles up to the maximum, with jitter in the upper half', () => {
  const policy = { ...defaults, backoff: 'exponential' as const, intervalMs: 1000 };
  const low = (a: number) => retryDelayMs(policy, a, () => 0);
  const high = (a: number) => retryDelayMs(policy, a, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(high), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.deepEqual([1, 2, 3].map(low), [500, 1000, 2000]);
  for (let i = 0; i < 100; i++) {
    const d = retryDelayMs(policy, 3);
    assert.ok(d >= 2000 && d <= 4000);
  }
  assert.equal(high(1000), 30_000, 'huge attempt numbers do not overflow');
});
