import { UnavailableError } from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import { StaleGenerationError } from './errors.js';
import type { IngestRun } from './ingest-run.js';
import type { IngestRunSpec } from './run-spec.js';

export interface RunManagerOptions {
  /** Runs held at once; a start beyond it is refused with `unavailable`. */
  maxRuns: number;
  createRun(spec: IngestRunSpec): IngestRun;
  logger: Logger;
  /** Called whenever the set of held runs changes. */
  onChange?(runIds: string[]): void;
}

// Generations remembered for runs no longer held, so a late command of an old lease stays fenced.
const REMEMBERED_GENERATIONS = 10_000;

/**
 * The runs this node holds: capacity, lease-generation fencing, and one command at a time per run
 * (a start and a stop of the same run never interleave). A run that ends by itself leaves the set.
 */
export class RunManager {
  private readonly runs = new Map<string, IngestRun>();
  private readonly generations = new Map<string, number>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private closing = false;

  constructor(private readonly o: RunManagerOptions) {}

  get size(): number {
    return this.runs.size;
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  /** Free places for new runs. */
  capacityLeft(): number {
    return Math.max(0, this.o.maxRuns - this.runs.size);
  }

  /**
   * Starts a run (resolves once it is accepted; the source opens asynchronously). The same
   * generation again is a no-op; a newer one replaces the held run; an older one is refused.
   */
  start(spec: IngestRunSpec): Promise<void> {
    return this.serialized(spec.runId, async () => {
      if (this.closing) throw new UnavailableError('ingest is shutting down');
      this.fence(spec.runId, spec.generation);
      const held = this.runs.get(spec.runId);
      if (held && held.generation === spec.generation) return;
      if (held) await this.stopRun(held, `replaced by generation ${spec.generation}`);
      if (this.runs.size >= this.o.maxRuns) {
        throw new UnavailableError(
          `ingest is at capacity: ${this.runs.size} of ${this.o.maxRuns} runs in use`,
        );
      }
      this.remember(spec.runId, spec.generation);
      const run = this.o.createRun(spec);
      this.runs.set(spec.runId, run);
      this.changed();
      void run.done.then(() => {
        if (this.runs.get(spec.runId) !== run) return;
        this.runs.delete(spec.runId);
        this.changed();
      });
    });
  }

  /** Stops a run; resolves true when it is not running here any more (also if it never was). */
  stop(runId: string, generation: number, reason: string): Promise<boolean> {
    return this.serialized(runId, async () => {
      this.fence(runId, generation);
      const held = this.runs.get(runId);
      if (held) await this.stopRun(held, reason);
      return true;
    });
  }

  /** Stops every run (shutdown) and refuses new ones. */
  async stopAll(reason: string): Promise<void> {
    this.closing = true;
    await Promise.all([...this.runs.values()].map((run) => this.stopRun(run, reason)));
  }

  private async stopRun(run: IngestRun, reason: string): Promise<void> {
    await run.stop(reason);
    if (this.runs.get(run.runId) === run) {
      this.runs.delete(run.runId);
      this.changed();
    }
  }

  private fence(runId: string, generation: number): void {
    const known = this.generations.get(runId);
    if (known !== undefined && generation < known) {
      throw new StaleGenerationError(runId, generation, known);
    }
  }

  private remember(runId: string, generation: number): void {
    this.generations.delete(runId);
    this.generations.set(runId, generation);
    if (this.generations.size > REMEMBERED_GENERATIONS) {
      for (const key of this.generations.keys()) {
        if (this.generations.size <= REMEMBERED_GENERATIONS) break;
        if (!this.runs.has(key)) this.generations.delete(key);
      }
    }
  }

  private serialized<T>(runId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(runId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.locks.set(runId, tail);
    void tail.then(() => {
      if (this.locks.get(runId) === tail) this.locks.delete(runId);
    });
    return next;
  }

  private changed(): void {
    this.o.onChange?.(this.runIds());
  }
}
