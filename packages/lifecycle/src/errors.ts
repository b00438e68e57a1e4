import { SieError } from '@sie/errors';
import type { RunStatus } from '@sie/db';

/** The state machine does not allow this move. */
export class IllegalTransitionError extends SieError {
  readonly code = 'illegal_transition';
  constructor(
    readonly runId: string,
    readonly from: RunStatus,
    readonly to: RunStatus,
  ) {
    super(`run ${runId} cannot go from ${from} to ${to}`);
  }
  override details(): Record<string, string> {
    return { runId: this.runId, from: this.from, to: this.to };
  }
}

/**
 * The run changed under the caller (another scheduler or the API moved it, or its generation
 * moved on): the caller's view is stale and it must not act on the run.
 */
export class StaleRunError extends SieError {
  readonly code = 'stale_run';
  constructor(
    readonly runId: string,
    readonly expected: string,
  ) {
    super(`run ${runId} is no longer ${expected}`);
  }
  override details(): Record<string, string> {
    return { runId: this.runId, expected: this.expected };
  }
}
