export { CLAIM_KINDS, claimCondition, leaseFree, leaseFreeOrMine, leaseUntil } from './claims.js';
export type { ClaimKind } from './claims.js';
export { NodeCommands, START_ORDER, STOP_ORDER, orderStages } from './commands.js';
export type { StartOutcome, StopOutcome } from './commands.js';
export {
  SCHEDULABLE_STAGES,
  SCHEDULER_ENV_ALIASES,
  schedulerConfigSchema,
  loadSchedulerConfig,
} from './config.js';
export type { SchedulableStage, SchedulerConfig } from './config.js';
export { HeartbeatTable, leaseDecision, stageName } from './heartbeats.js';
export type { LeaseDecision, LeaseInput } from './heartbeats.js';
export { SchedulerMetrics } from './metrics.js';
export { OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayOptions } from './outbox-relay.js';
export { NodeDirectory, chooseNode, isPresent, rankNodes } from './placement.js';
export type { Candidate, NodeView, PlacementInput, StagePresence } from './placement.js';
export {
  failureMessage,
  isModelFault,
  isRecoverableRefusal,
  reasonForErrorCode,
} from './reasons.js';
export { RunStore, viewOf } from './run-store.js';
export type { RenewEntry, RunView, TransitionOptions } from './run-store.js';
export { REPORTS_QUEUE, Scheduler, WAITING_MESSAGE } from './scheduler.js';
export type { SchedulerDeps, SchedulerOptions } from './scheduler.js';
