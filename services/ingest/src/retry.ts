import type { RetryPolicy } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import type { RetryConfig } from './config.js';

export type RetrySettings = RetryConfig;

/**
 * The policy of one run: the run's own RetryPolicy where it sets a field (proto3 zero means
 * "not set"), the service defaults elsewhere.
 */
export function resolveRetryPolicy(defaults: RetrySettings, spec?: RetryPolicy): RetrySettings {
  if (!spec) return { ...defaults };
  const backoff = spec.backoff === '' ? defaults.backoff : spec.backoff;
  if (backoff !== 'fixed' && backoff !== 'exponential') {
    throw new InvalidArgumentError(
      `retry backoff must be "fixed" or "exponential", not ${JSON.stringify(spec.backoff)}`,
      'pipeline.retry.backoff',
    );
  }
  return {
    startupAttempts: spec.startupAttempts || defaults.startupAttempts,
    reconnectAttempts: spec.reconnectAttempts || defaults.reconnectAttempts,
    intervalMs: spec.intervalMs || defaults.intervalMs,
    backoff,
    maxIntervalMs: spec.maxIntervalMs || defaults.maxIntervalMs,
  };
}

/**
 * Pause after failed attempt number `attempt` (1-based). Exponential backoff doubles from the
 * interval up to the maximum and keeps a random half ("equal jitter"), so many runs that lost the
 * same camera server do not all reconnect in the same instant.
 */
export function retryDelayMs(
  policy: RetrySettings,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (policy.backoff === 'fixed') return policy.intervalMs;
  const exp = policy.intervalMs * 2 ** Math.max(0, Math.min(attempt - 1, 30));
  const capped = Math.min(policy.maxIntervalMs, exp);
  return Math.round(capped / 2 + random() * (capped / 2));
}
