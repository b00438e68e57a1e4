export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A child that stayed healthy this long before exiting restarts after `initialMs` again. */
  resetAfterMs: number;
}

export const RESTART_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  maxMs: 30_000,
  resetAfterMs: 60_000,
};

/**
 * Restart delays of one supervised child: 1 s, 2 s, 4 s … up to 30 s while it keeps crashing,
 * back to 1 s once a run stayed healthy for a minute. A crash loop thus costs little CPU and
 * fills the log slowly, while a rare crash is repaired at once.
 */
export class RestartBackoff {
  private nextMs: number;

  constructor(private readonly options: BackoffOptions = RESTART_BACKOFF) {
    this.nextMs = options.initialMs;
  }

  /** The pause before the next start, given how long the run that just ended was healthy. */
  delayAfter(healthyForMs: number): number {
    if (healthyForMs >= this.options.resetAfterMs) this.nextMs = this.options.initialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.options.maxMs);
    return delay;
  }
}
