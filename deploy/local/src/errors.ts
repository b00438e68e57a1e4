import { SieError } from '@sie/errors';

/**
 * The stack could not come up because of one component: a service (or `postgres`, `nats`)
 * that cannot start, a missing build, a port someone else holds. `component` is what
 * stack-up shows the log of.
 */
export class StackStartError extends SieError {
  readonly code = 'stack_start_failed';
  constructor(
    readonly component: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${component}: ${message}`, options);
  }
  override details(): Record<string, string> {
    return { component: this.component };
  }
}
