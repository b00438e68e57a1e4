import { RunState } from '@sie/contracts';
import type { RunStatus } from '@sie/db';

/**
 * Every allowed move of the run state machine. `init_*` are requests waiting for a scheduler;
 * `in_*_processing` means nodes are working on them. A restart goes back to `init_startup` with a
 * new lease generation; `inactive` and `failed` are final.
 */
export const TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  init_startup: ['in_startup_processing', 'init_shutdown', 'failed'],
  in_startup_processing: ['active', 'init_startup', 'init_shutdown', 'failed'],
  active: ['init_startup', 'init_shutdown', 'failed'],
  init_shutdown: ['in_shutdown_processing', 'inactive', 'failed'],
  in_shutdown_processing: ['inactive', 'failed'],
  inactive: [],
  failed: [],
};

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: RunStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

const TO_PROTO: Record<RunStatus, RunState> = {
  init_startup: RunState.RUN_STATE_INIT_STARTUP,
  in_startup_processing: RunState.RUN_STATE_IN_STARTUP_PROCESSING,
  active: RunState.RUN_STATE_ACTIVE,
  init_shutdown: RunState.RUN_STATE_INIT_SHUTDOWN,
  in_shutdown_processing: RunState.RUN_STATE_IN_SHUTDOWN_PROCESSING,
  inactive: RunState.RUN_STATE_INACTIVE,
  failed: RunState.RUN_STATE_FAILED,
};

export function runStateOf(status: RunStatus | null): RunState {
  return status ? TO_PROTO[status] : RunState.RUN_STATE_UNSPECIFIED;
}
