export { createDb } from './client.js';
export type { CreateDbOptions, Db, DbErrorKind, DbHandle } from './client.js';
export { MigrationError } from './errors.js';
export { newId } from './ids.js';
export type {
  ModelDecoderJson,
  PipelineConfigJson,
  RetryPolicyJson,
  RunOutputJson,
  RunSourceJson,
} from './json.js';
export { MIGRATIONS_FOLDER, migrate } from './migrate.js';
export type { MigrateResult } from './migrate.js';
export { models, nodes, outbox, pipelines, runTransitions, runs, tenants } from './schema.js';
export type {
  Model,
  NewModel,
  NewOutboxMessage,
  NewPipeline,
  NewRun,
  NewRunTransition,
  NewTenant,
  NodeRow,
  OutboxMessage,
  Pipeline,
  Run,
  RunTransition,
  Tenant,
} from './schema.js';
export {
  DESIRED_STATES,
  NODE_STATES,
  REASON_CODES,
  RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
  isRunStatus,
} from './vocabulary.js';
export type { DesiredState, NodeState, ReasonCode, RunStatus } from './vocabulary.js';
export { NODE_HOLDING_STATUSES, runsOnNodes } from './node-usage.js';
export type { NodeRunRow } from './node-usage.js';
