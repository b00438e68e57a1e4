import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { ModelDecoderJson, PipelineConfigJson, RunOutputJson, RunSourceJson } from './json.js';
import { DESIRED_STATES, NODE_STATES, RUN_STATUSES } from './vocabulary.js';

// pg-core has no bytea column; node-postgres reads bytea as Buffer and writes any Uint8Array view.
const bytea = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => 'bytea',
  toDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
});

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/** `'a', 'b', …` for a check constraint over a fixed vocabulary. */
const sqlList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const models = pgTable(
  'models',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    /** `detect` | `classify` */
    task: text('task').notNull(),
    decoder: jsonb('decoder').$type<ModelDecoderJson>().notNull(),
    inputWidth: integer('input_width').notNull(),
    inputHeight: integer('input_height').notNull(),
    classNames: jsonb('class_names').$type<string[]>().notNull(),
    pixelOrder: text('pixel_order', { enum: ['rgb', 'bgr'] }).notNull(),
    /** Multiplier applied to 0-255 pixel values (1 for YOLOX, 1/255 for Ultralytics). */
    pixelScale: doublePrecision('pixel_scale').notNull(),
    /** Letterbox pad value in 0-255 units. */
    padValue: doublePrecision('pad_value').notNull(),
    /** sha256 of the ONNX file, hex. */
    contentHash: text('content_hash').notNull(),
    filePath: text('file_path').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    // Uploading the same file twice finds the existing model. Soft-deleted rows stay (runs point
    // at them) but no longer block uploading that file again.
    uniqueIndex('models_tenant_content_hash_uq')
      .on(t.tenantId, t.contentHash)
      .where(sql`${t.deletedAt} is null`),
    check('models_pixel_order_check', sql`${t.pixelOrder} in ('rgb', 'bgr')`),
  ],
);

export const pipelines = pgTable(
  'pipelines',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    config: jsonb('config').$type<PipelineConfigJson>().notNull(),
    /** Bumped on every config change; a run records the version it started with. */
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('pipelines_tenant_idx').on(t.tenantId, t.createdAt)],
);

export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    pipelineId: text('pipeline_id')
      .notNull()
      .references(() => pipelines.id),
    pipelineVersion: integer('pipeline_version').notNull(),
    source: jsonb('source').$type<RunSourceJson>().notNull(),
    output: jsonb('output').$type<RunOutputJson>().notNull().default({}),
    status: text('status', { enum: RUN_STATUSES }).notNull().default('init_startup'),
    reasonCode: text('reason_code'),
    reasonMessage: text('reason_message'),
    /** The node the run is placed on. */
    nodeId: text('node_id'),
    /** The scheduler instance holding the run's lease. */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    /** Fencing token: bumped on every claim; commands and reports carrying an older one are void. */
    leaseGeneration: bigint('lease_generation', { mode: 'number' }).notNull().default(0),
    /** Startup attempts of the current start. */
    attempts: integer('attempts').notNull().default(0),
    /** Restarts after a stage stopped heartbeating or a node was lost. */
    restarts: integer('restarts').notNull().default(0),
    desiredState: text('desired_state', { enum: DESIRED_STATES }).notNull().default('running'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    check('runs_status_check', sql`${t.status} in (${sqlList(RUN_STATUSES)})`),
    check('runs_desired_state_check', sql`${t.desiredState} in (${sqlList(DESIRED_STATES)})`),
    // The scheduler polls for work by status, oldest first ...
    index('runs_status_idx').on(t.status, t.createdAt),
    // ... and for leases that ran out.
    index('runs_lease_expires_idx')
      .on(t.leaseExpiresAt)
      .where(sql`${t.leaseExpiresAt} is not null`),
    index('runs_tenant_idx').on(t.tenantId, t.createdAt),
    index('runs_pipeline_idx').on(t.pipelineId),
  ],
);

export const runTransitions = pgTable(
  'run_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** Null for the row recording the run's creation. */
    fromStatus: text('from_status', { enum: RUN_STATUSES }),
    toStatus: text('to_status', { enum: RUN_STATUSES }).notNull(),
    reasonCode: text('reason_code'),
    message: text('message'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** The run's lease generation when the transition was made. */
    generation: bigint('generation', { mode: 'number' }).notNull(),
    /** Who made it: `api`, `scheduler:<id>`, `node:<id>`. */
    actor: text('actor').notNull(),
  },
  (t) => [
    index('run_transitions_run_idx').on(t.runId, t.id),
    check(
      'run_transitions_status_check',
      sql`${t.toStatus} in (${sqlList(RUN_STATUSES)}) and (${t.fromStatus} is null or ${t.fromStatus} in (${sqlList(RUN_STATUSES)}))`,
    ),
  ],
);

/**
 * Transactional outbox: rows written in the same transaction as the state change they announce,
 * published to NATS by a relay. `dedup_id` becomes the JetStream Nats-Msg-Id, so a relay that
 * crashes between publishing and marking the row published cannot duplicate the message.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    subject: text('subject').notNull(),
    payload: bytea('payload').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    dedupId: text('dedup_id').notNull().unique('outbox_dedup_id_uq'),
    createdAt: createdAt(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_unpublished_idx')
      .on(t.id)
      .where(sql`${t.publishedAt} is null`),
  ],
);

/**
 * Nodes an operator acted on (drain, resume). Not tenant-scoped: nodes belong to the operator.
 * Nodes that announce themselves without a row here are `ready`.
 */
export const nodes = pgTable(
  'nodes',
  {
    nodeId: text('node_id').primaryKey(),
    state: text('state', { enum: NODE_STATES }).notNull().default('ready'),
    /**
     * Operator override of the node's capacity (frames per second); null: the figure the node's
     * ingest announces.
     */
    capacityFps: doublePrecision('capacity_fps'),
    /** What the scheduler last said about the drain (e.g. why a run cannot move yet). */
    message: text('message'),
    updatedAt: updatedAt(),
  },
  (t) => [check('nodes_state_check', sql`${t.state} in (${sqlList(NODE_STATES)})`)],
);

export type Tenant = typeof tenants.$inferSelect;
export type NewTenant = typeof tenants.$inferInsert;
export type Model = typeof models.$inferSelect;
export type NewModel = typeof models.$inferInsert;
export type Pipeline = typeof pipelines.$inferSelect;
export type NewPipeline = typeof pipelines.$inferInsert;
export type Run = typeof runs.$inferSelect;
export type NewRun = typeof runs.$inferInsert;
export type RunTransition = typeof runTransitions.$inferSelect;
export type NewRunTransition = typeof runTransitions.$inferInsert;
export type OutboxMessage = typeof outbox.$inferSelect;
export type NewOutboxMessage = typeof outbox.$inferInsert;
export type NodeRow = typeof nodes.$inferSelect;
