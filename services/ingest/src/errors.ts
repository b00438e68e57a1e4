import { SieError } from '@sie/errors';

/**
 * A command carried an older lease generation than the run this node holds: it comes from a
 * scheduler that lost the lease, and obeying it could stop or restart the current owner's run.
 */
export class StaleGenerationError extends SieError {
  readonly code = 'stale_generation';
  constructor(
    readonly runId: string,
    readonly requested: number,
    readonly held: number,
  ) {
    super(`run ${runId}: generation ${requested} is older than the held generation ${held}`);
  }
  override details(): Record<string, string> {
    return { runId: this.runId, requested: String(this.requested), held: String(this.held) };
  }
}
