import { hostname } from 'node:os';
import {
  baseConfigShape,
  loadServiceConfig,
  natsConfigShape,
  type ServiceConfigOptions,
} from '@sie/service-kit';
import { z } from 'zod';

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const ms = () => z.number().int().positive();

/** The stages a run can need on a node (the names of `sie.ctl.<node>.<stage>.*`). */
export const SCHEDULABLE_STAGES = ['ingest', 'rules', 'render'] as const;
export type SchedulableStage = (typeof SCHEDULABLE_STAGES)[number];

const defaultSchedulerId = (): string =>
  `${hostname()
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 64)}-${process.pid}`;

export const schedulerConfigSchema = z.strictObject({
  ...baseConfigShape(9103),
  ...natsConfigShape,
  /** This scheduler instance: the `lease_owner` of the runs it holds. Unique per process. */
  schedulerId: z.string().regex(ID, 'letters, digits, _ and - only').default(defaultSchedulerId),
  databaseUrl: z.string().min(1).default('postgres://postgres:postgres@127.0.0.1:55432/sie'),
  /** How often the runs table is polled for work (and leases are renewed). */
  pollIntervalMs: z.number().int().min(50).default(1000),
  /** How long every stage of a run may stay silent before the run is restarted. */
  leaseMs: z.number().int().min(200).default(10_000),
  /** Deadline of one request/reply command to a node's stage. */
  commandTimeoutMs: ms().default(5000),
  /** Restarts of a run (a stage went silent) before it fails with `restart_limit`. */
  maxRestarts: z.number().int().min(0).max(1000).default(3),
  /** Placements of one start that a node may refuse or leave unanswered before the run fails. */
  maxStartAttempts: z.number().int().min(1).max(100).default(5),
  /** The stages a run needs on a node; each must be announced with free capacity. */
  stages: z
    .array(z.enum(SCHEDULABLE_STAGES))
    .min(1)
    .refine((s) => s.includes('ingest'), 'the ingest stage is required')
    .refine((s) => new Set(s).size === s.length, 'no stage twice')
    .default(['ingest', 'rules', 'render']),
  /**
   * How long a run moving off a draining node may take to report its first frame on the new
   * node before the move is given up (the run stays where it was, and the drain tries again).
   */
  moveStartTimeoutMs: ms().default(30_000),
  /** Runs claimed per poll and per kind of work. */
  batchSize: z.number().int().min(1).max(1000).default(20),
  /**
   * A node whose announcements stop for this long is gone. Default (0): three times the
   * announce interval the node itself states.
   */
  nodeSilenceMs: z.number().int().min(0).default(0),
  /**
   * host:port of the node's inference gRPC service: a run's model is loaded there (LoadModel)
   * before the run starts. Unset: nothing is loaded (the node's own config may preload models).
   */
  inferenceUrl: z.string().min(1).optional(),
  /** Deadline of one LoadModel (a load builds a session in every inference worker). */
  modelLoadTimeoutMs: ms().default(60_000),
  /** Unused by the scheduler (shared deployment key). */
  modelStoreDir: z.string().optional(),
  outbox: z
    .strictObject({
      /** JetStream stream that keeps status changes (`sie.status.>`). */
      stream: z.string().regex(ID).default('SIE_STATUS'),
      /** How often the relay looks for unpublished rows (it is also woken by transitions). */
      pollIntervalMs: z.number().int().min(10).default(200),
      batchSize: z.number().int().min(1).max(1000).default(100),
      maxAgeDays: z.number().positive().default(7),
      duplicateWindowMs: ms().default(120_000),
    })
    .prefault({}),
});

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;

export const SCHEDULER_ENV_ALIASES: Record<string, string> = {
  DATABASE_URL: 'databaseUrl',
  SIE_INFERENCE_URL: 'inferenceUrl',
};

/** This service's config as its process loads it (main.ts, and the deployment checks). */
export function loadSchedulerConfig(options: ServiceConfigOptions = {}): SchedulerConfig {
  return loadServiceConfig(schedulerConfigSchema, SCHEDULER_ENV_ALIASES, options);
}
