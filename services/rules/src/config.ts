import {
  baseConfigShape,
  loadServiceConfig,
  natsConfigShape,
  type ServiceConfigOptions,
} from '@sie/service-kit';
import { z } from 'zod';

export const rulesConfigSchema = z.strictObject({
  ...baseConfigShape(9104),
  ...natsConfigShape,
  heartbeatIntervalMs: z.number().int().min(50).default(1000),
  /** Runs this node's rules service takes at most. */
  maxRuns: z.number().int().positive().default(64),
  /** A run's state is snapshotted to KV at least this often, in frame (capture) time. */
  snapshotEveryMs: z.number().int().min(10).default(1000),
  /** …and this long (wall clock) after its last frame, so a quiet or paused run is saved whole. */
  idleSnapshotMs: z.number().int().min(10).default(250),
  /** Snapshots of runs that stopped stay this long in the `sie_rules_state` bucket (KV TTL). */
  stateTtlHours: z.number().positive().default(24),
  /** Wait for JetStream's ack of one event publish. */
  publishTimeoutMs: z.number().int().min(100).default(5000),
  /** The `SIE_EVENTS` stream, created at startup when missing. */
  events: z
    .strictObject({
      maxAgeDays: z.number().positive().default(7),
      maxMsgsPerSubject: z.number().int().positive().default(100_000),
      duplicateWindowMs: z.number().int().min(1000).default(120_000),
    })
    .prefault({}),
});

export type RulesConfig = z.infer<typeof rulesConfigSchema>;

/** This service's config as its process loads it (main.ts, and the deployment checks). */
export function loadRulesConfig(options: ServiceConfigOptions = {}): RulesConfig {
  return loadServiceConfig(rulesConfigSchema, undefined, options);
}
