import type { DbHandle } from '@sie/db';
import { Gauge, type Logger, type Registry } from '@sie/telemetry';

/**
 * Polls the runs table and publishes how many runs are in each state. The control-plane issue
 * turns this loop into the claimer (`FOR UPDATE SKIP LOCKED`) that drives each run's state machine.
 */
export class RunsPoller {
  private timer: NodeJS.Timeout | undefined;
  private readonly runs: Gauge<'status'>;
  private lastError = '';

  constructor(
    private readonly pool: DbHandle['pool'],
    private readonly intervalMs: number,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.runs = new Gauge({
      name: 'sie_scheduler_runs',
      help: 'Runs in the runs table, per status',
      labelNames: ['status'],
      registers: [registry],
    });
  }

  start(): void {
    const tick = (): void => {
      this.poll().then(
        () => (this.lastError = ''),
        (err: unknown) => {
          if (!this.lastError) this.logger.warn({ err }, 'polling the runs table failed');
          this.lastError = String(err);
        },
      );
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
  }

  /** 'ok' while the last poll succeeded. */
  state(): string {
    return this.lastError ? `poll failing: ${this.lastError}` : 'ok';
  }

  private async poll(): Promise<void> {
    const { rows } = await this.pool.query<{ status: string; n: string }>(
      'select status, count(*) as n from runs group by status',
    );
    this.runs.reset();
    for (const row of rows) this.runs.set({ status: row.status }, Number(row.n));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
