/** How one model's requests are grouped: Triton's dynamic batcher semantics. */
export interface BatchPolicy {
  /** 1 for models with a static batch dim. */
  maxBatch: number;
  maxQueueDelayMs: number;
}

export const NO_BATCHING: BatchPolicy = { maxBatch: 1, maxQueueDelayMs: 0 };

export interface Queued<T> {
  item: T;
  /** The model generation key; only requests of one model share a batch. */
  model: string;
  /** The stream a frame belongs to (its store), for latest-frame-wins; null: never superseded. */
  stream: string | null;
  seq: number;
  enqueuedAt: number;
}

export type Take<T> = { batch: Queued<T>[] } | { waitMs: number };

/**
 * The requests waiting for a worker, one FIFO per model. Pure (no timers, no I/O): the pool asks
 * `take` whenever a worker is idle and arms a timer for the returned wait.
 *
 * A model's queue is ready when it holds `maxBatch` requests or its oldest has waited
 * `maxQueueDelayMs`; of the ready models the one with the oldest request goes first. A request for
 * a newer frame of a stream already queued replaces the older one (returned by `push` to be
 * failed and counted): a live stream never accumulates latency here.
 */
export class BatchQueue<T> {
  private readonly byModel = new Map<string, Queued<T>[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Queues `q`; returns the requests it superseded (possibly `q` itself when it is older). */
  push(q: Queued<T>): Queued<T>[] {
    let list = this.byModel.get(q.model);
    if (!list) {
      list = [];
      this.byModel.set(q.model, list);
    }
    if (q.stream !== null) {
      const i = list.findIndex((o) => o.stream === q.stream);
      const other = list[i];
      if (other) {
        if (other.seq >= q.seq) return [q];
        list.splice(i, 1);
        list.push(q);
        return [other];
      }
    }
    list.push(q);
    this.count++;
    return [];
  }

  /**
   * The next batch to run at `now`, the wait until one is due, or null when nothing waits. With
   * several idle workers a due queue is shared between them.
   */
  take(now: number, policyOf: (model: string) => BatchPolicy, idleWorkers = 1): Take<T> | null {
    let best: { model: string; list: Queued<T>[]; max: number } | null = null;
    let waitMs = Infinity;
    for (const [model, list] of this.byModel) {
      const head = list[0];
      if (!head) continue;
      const p = policyOf(model);
      const max = Math.max(1, p.maxBatch);
      const due = head.enqueuedAt + p.maxQueueDelayMs;
      if (list.length >= max || now >= due) {
        if (!best || head.enqueuedAt < (best.list[0] as Queued<T>).enqueuedAt) {
          best = { model, list, max };
        }
      } else {
        waitMs = Math.min(waitMs, due - now);
      }
    }
    if (best) {
      // Spread what waits over the idle workers (Triton gives each model instance its own batch):
      // one worker with every frame while another idles would serialise the work on one core.
      const share = Math.ceil(best.list.length / Math.max(1, idleWorkers));
      const batch = best.list.splice(0, Math.min(best.max, share));
      if (best.list.length === 0) this.byModel.delete(best.model);
      this.count -= batch.length;
      return { batch };
    }
    return waitMs === Infinity ? null : { waitMs };
  }

  /** Empties the queue (shutdown), returning what waited. */
  drain(): Queued<T>[] {
    const all = [...this.byModel.values()].flat();
    this.byModel.clear();
    this.count = 0;
    return all;
  }
}
