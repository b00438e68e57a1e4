/**
 * Lets a message through at most once per interval and counts what it held back, so a dependency
 * that fails on every frame produces one log line every few seconds, not thirty per second.
 */
export class LogLimiter {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `log` with the number of messages held back since the last one, or holds this one. */
  maybe(log: (suppressed: number) => void): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = t;
    const n = this.suppressed;
    this.suppressed = 0;
    log(n);
  }
}
