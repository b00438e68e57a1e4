/**
 * The run state machine's states, as stored in `runs.status` (a check constraint keeps the column
 * to this list). `init_*` states are requests the scheduler has yet to act on; `in_*_processing`
 * means a node is working on it.
 */
export const RUN_STATUSES = [
  'init_startup',
  'in_startup_processing',
  'active',
  'init_shutdown',
  'in_shutdown_processing',
  'inactive',
  'failed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** States a run does not leave on its own. */
export const TERMINAL_RUN_STATUSES = ['inactive', 'failed'] as const satisfies readonly RunStatus[];

export function isRunStatus(value: string): value is RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(value);
}

/**
 * Why a run failed (`runs.reason_code`, `run_transitions.reason_code`). `source_unreachable`,
 * `source_lost`, `model_error` and `internal_error` equal the `code` of the `@sie/errors` class a
 * stage reports; `config_error` covers ConfigError (`config_invalid`) and InvalidArgumentError;
 * `restart_limit` is the scheduler's own (a stage kept dying).
 */
export const REASON_CODES = [
  'source_unreachable',
  'source_lost',
  'model_error',
  'config_error',
  'internal_error',
  'restart_limit',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** What the client asked for; the scheduler moves `status` towards it. */
export const DESIRED_STATES = ['running', 'stopped'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/**
 * A node's operator state (`nodes.state`): `ready` takes runs; `draining` takes none and has its
 * runs moved to other nodes; `drained` holds none and may be stopped. A node with no row is ready.
 */
export const NODE_STATES = ['ready', 'draining', 'drained'] as const;
export type NodeState = (typeof NODE_STATES)[number];
