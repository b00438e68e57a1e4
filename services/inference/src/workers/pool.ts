import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { SieError } from '@sie/errors';
import {
  FrameSupersededError,
  InternalError,
  TimeoutError,
  UnavailableError,
  fromErrorPayload,
} from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import type { ModelIo } from '../models/model-io.js';
import { maxBatchOf, type BatchingConfig, type ModelConfig } from '../models/spec.js';
import { BatchQueue, NO_BATCHING, type BatchPolicy, type Queued } from './batch-queue.js';
import type { DetectJob, DetectResult, FromWorker, ToWorker, WorkerInit } from './protocol.js';

export interface WorkerPoolOptions {
  size: number;
  /** Jobs allowed to wait for a worker; more are refused with UnavailableError. */
  queueLimit: number;
  /** A job running longer than this is failed and its worker replaced (a hung native call). */
  jobTimeoutMs: number;
  init: WorkerInit;
  logger: Logger;
  onQueueDepth?: (depth: number) => void;
  /**
   * A job refused before it ran: `queue_full`, `shutting_down`, or `superseded` (a newer frame of
   * the same stream took its place in the queue).
   */
  onRefused?: (reason: 'queue_full' | 'shutting_down' | 'superseded') => void;
  /** Dynamic batching for models with a dynamic batch dim (a model's own `batching` wins); absent: none. */
  batching?: BatchingConfig;
  onWorkerRestart?: () => void;
  /** The compiled worker entry; overridable for tests. */
  workerUrl?: URL;
}

export interface PoolResult {
  result: DetectResult;
  queueMs: number;
}

interface Pending {
  resolve(msg: FromWorker): void;
  reject(err: SieError): void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  /** False once the thread has exited (a replacement may be pending). */
  alive: boolean;
  busy: boolean;
  /** Replies awaited from this worker, by message id. */
  pending: Map<number, Pending>;
  /** Set when the pool ends the worker on purpose (close, hung job): its exit is not a crash. */
  retired: boolean;
  lastError: Error | null;
  failures: number;
}

interface QueuedJob {
  job: DetectJob;
  transfer: ArrayBuffer[];
  resolve(r: PoolResult): void;
  reject(err: SieError): void;
}

const RESTART_MAX_DELAY_MS = 5000;

/**
 * A fixed set of inference worker threads, each holding a session of every loaded model, fed
 * from a per-model batch queue (`BatchQueue`: Triton's dynamic batching; an idle worker takes the
 * next due batch). A worker that dies fails its
 * in-flight job with a clear error and is replaced, with its models loaded again; the service
 * itself keeps running.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue = new BatchQueue<QueuedJob>();
  /** Batch policy of each loaded model generation (from what its workers report). */
  private readonly policies = new Map<string, BatchPolicy>();
  private timer: NodeJS.Timeout | undefined;
  private readonly policyOf = (key: string): BatchPolicy => this.policies.get(key) ?? NO_BATCHING;
  /** Models every worker must hold (replayed into restarted workers), by generation key. */
  private readonly wanted = new Map<string, ModelConfig>();
  private nextId = 1;
  private closed = false;
  /** Pending replacements; they keep the process alive (jobs may be waiting for them). */
  private readonly restarts = new Set<NodeJS.Timeout>();
  private readonly workerUrl: URL;

  constructor(private readonly o: WorkerPoolOptions) {
    this.workerUrl = o.workerUrl ?? new URL('./worker.js', import.meta.url);
  }

  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (let i = 0; i < this.o.size; i++) starts.push(this.spawn(i, 0));
    await Promise.all(starts);
  }

  get size(): number {
    return this.o.size;
  }

  get queueDepth(): number {
    return this.queue.size;
  }

  /** The live worker threads (tests end one to check recovery). */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /**
   * Loads a model generation into every worker; all must succeed or it is unloaded again and
   * the first failure is thrown. Returns the network's shape and any provider warning.
   */
  async load(key: string, config: ModelConfig): Promise<{ io: ModelIo; warning: string | null }> {
    if (this.closed) throw new UnavailableError('the inference service is shutting down');
    this.wanted.set(key, config);
    // A worker being replaced gets the model from `wanted` when its replacement starts.
    const live = this.slots.filter((s) => s.alive);
    if (live.length === 0) {
      this.wanted.delete(key);
      throw new UnavailableError('no inference worker is running (restarting); retry');
    }
    const results = await Promise.allSettled(live.map((s) => this.loadInto(s, key, config)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      this.unload(key);
      throw failed.reason;
    }
    const first = results[0];
    if (!first || first.status !== 'fulfilled') throw new InternalError('no inference workers');
    let maxBatch = Infinity;
    for (const r of results)
      if (r.status === 'fulfilled') maxBatch = Math.min(maxBatch, r.value.maxBatch);
    const batching = config.batching ?? this.o.batching;
    this.policies.set(key, {
      maxBatch,
      maxQueueDelayMs: maxBatch > 1 && batching ? batching.maxQueueDelayUs / 1000 : 0,
    });
    return { io: first.value.io, warning: first.value.warning };
  }

  /** The batch policy a loaded model generation runs under (NO_BATCHING when unknown). */
  policy(key: string): BatchPolicy {
    return this.policyOf(key);
  }

  unload(key: string): void {
    this.wanted.delete(key);
    this.policies.delete(key);
    for (const s of this.slots) if (s.alive) this.send(s, { type: 'unload', key });
  }

  /** Queues a job; `transfer` lists buffers handed to the worker instead of copied. */
  run(job: DetectJob, transfer: ArrayBuffer[] = []): Promise<PoolResult> {
    if (this.closed) {
      this.o.onRefused?.('shutting_down');
      return Promise.reject(new UnavailableError('the inference service is shutting down'));
    }
    if (this.queue.size >= this.o.queueLimit && !this.slots.some(isIdle)) {
      this.o.onRefused?.('queue_full');
      return Promise.reject(
        new UnavailableError(`inference queue is full (${this.queue.size} jobs waiting)`),
      );
    }
    return new Promise<PoolResult>((resolve, reject) => {
      const ref = job.input.kind === 'frame' ? job.input.ref : null;
      const dropped = this.queue.push({
        item: { job, transfer, resolve, reject },
        model: job.modelKey,
        stream: ref ? ref.store : null,
        seq: ref ? ref.seq : 0,
        enqueuedAt: performance.now(),
      });
      for (const d of dropped) {
        this.o.onRefused?.('superseded');
        d.item.reject(new FrameSupersededError(d.stream ?? '', d.seq, ref?.seq ?? 0));
      }
      this.pump();
    });
  }

  /** Refuses new jobs, fails queued ones, lets running ones finish (up to `graceMs`), ends the threads. */
  async close(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.restarts) clearTimeout(t);
    this.restarts.clear();
    clearTimeout(this.timer);
    for (const q of this.queue.drain()) {
      q.item.reject(new UnavailableError('the inference service is shutting down'));
    }
    this.o.onQueueDepth?.(0);
    const deadline = Date.now() + graceMs;
    while (this.slots.some((s) => s.busy) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(
      this.slots.map((s) => {
        s.retired = true;
        return s.worker.terminate();
      }),
    );
  }

  private spawn(index: number, failures: number): Promise<void> {
    const worker = new Worker(this.workerUrl, {
      workerData: this.o.init,
      name: `inference-${index}`,
    });
    const slot: Slot = {
      index,
      worker,
      ready: false,
      alive: true,
      busy: false,
      pending: new Map(),
      retired: false,
      lastError: null,
      failures,
    };
    this.slots[index] = slot;
    worker.on('message', (msg: FromWorker) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (msg.type === 'failed') p.reject(fromErrorPayload(msg.error));
      else p.resolve(msg);
    });
    worker.on('error', (err) => {
      slot.lastError = err;
    });
    worker.on('exit', (code) => this.onExit(slot, code));
    // Load every wanted model before the worker takes jobs.
    const loads = [...this.wanted].map(([key, config]) =>
      this.loadInto(slot, key, config).catch((err: unknown) => {
        this.o.logger.error(
          { err, worker: index, model: config.id },
          'worker could not load model',
        );
      }),
    );
    return Promise.all(loads).then(() => {
      if (this.slots[index] !== slot || slot.retired) return;
      slot.ready = true;
      this.pump();
    });
  }

  private onExit(slot: Slot, code: number): void {
    slot.ready = false;
    slot.alive = false;
    const why = slot.lastError ? `: ${slot.lastError.message}` : '';
    const err = new InternalError(
      `inference worker ${slot.index} stopped (exit code ${code})${why}; its job was not completed`,
      { cause: slot.lastError ?? undefined },
    );
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
    slot.busy = false;
    if (slot.retired && this.closed) return;
    if (this.slots[slot.index] !== slot) return;
    this.o.onWorkerRestart?.();
    const failures = slot.failures + 1;
    const delay = Math.min(RESTART_MAX_DELAY_MS, 50 * 2 ** Math.min(failures, 7));
    this.o.logger.error(
      { err: slot.lastError ?? undefined, worker: slot.index, code, restartInMs: delay },
      'inference worker stopped; replacing it',
    );
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      if (!this.closed) void this.spawn(slot.index, failures);
    }, delay);
    this.restarts.add(timer);
  }

  private loadInto(
    slot: Slot,
    key: string,
    config: ModelConfig,
  ): Promise<{ io: ModelIo; warning: string | null; maxBatch: number }> {
    const maxBatch = maxBatchOf(config.batching ?? this.o.batching, this.o.init.executionProvider);
    return this.request(slot, (id) => ({ type: 'load', id, key, config, maxBatch })).then((msg) => {
      if (msg.type !== 'loaded') throw new InternalError(`unexpected worker reply ${msg.type}`);
      return { io: msg.io, warning: msg.warning, maxBatch: msg.maxBatch };
    });
  }

  private request(
    slot: Slot,
    build: (id: number) => ToWorker,
    transfer: ArrayBuffer[] = [],
  ): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (!slot.alive || !this.send(slot, build(id), transfer)) {
        slot.pending.delete(id);
        reject(new InternalError(`inference worker ${slot.index} is not running`));
      }
    });
  }

  private send(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): boolean {
    try {
      slot.worker.postMessage(msg, transfer);
      return true;
    } catch (err) {
      this.o.logger.warn({ err, worker: slot.index }, 'cannot post to inference worker');
      return false;
    }
  }

  /** Hands due batches to idle workers; arms a timer for the next batch that is not due yet. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (;;) {
      const slot = this.slots.find(isIdle);
      if (!slot) break;
      const idle = this.slots.filter(isIdle).length;
      const next = this.queue.take(performance.now(), this.policyOf, idle);
      if (!next) break;
      if ('waitMs' in next) {
        // setTimeout has millisecond resolution: a sub-millisecond delay waits one millisecond.
        this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(next.waitMs)));
        break;
      }
      this.dispatch(slot, next.batch);
    }
    this.o.onQueueDepth?.(this.queue.size);
  }

  private dispatch(slot: Slot, batch: Queued<QueuedJob>[]): void {
    slot.busy = true;
    const now = performance.now();
    const jobs: DetectJob[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const q of batch) {
      jobs.push(q.item.job);
      transfer.push(...q.item.transfer);
    }
    let timedOut = false;
    const rejectAll = (err: SieError): void => {
      for (const q of batch) q.item.reject(err);
    };
    const timer = setTimeout(() => {
      // A native call that never returns would hold the worker forever: replace the worker.
      timedOut = true;
      rejectAll(new TimeoutError('inference', this.o.jobTimeoutMs));
      slot.lastError = new Error(`job exceeded ${this.o.jobTimeoutMs} ms`);
      void slot.worker.terminate();
    }, this.o.jobTimeoutMs);
    timer.unref();
    this.request(slot, (id) => ({ type: 'detect', id, jobs }), transfer).then(
      (msg) => {
        clearTimeout(timer);
        slot.busy = false;
        slot.failures = 0;
        if (msg.type !== 'result' || msg.outcomes.length !== batch.length) {
          rejectAll(new InternalError(`unexpected worker reply ${msg.type}`));
        } else {
          batch.forEach((q, i) => {
            const o = msg.outcomes[i];
            if (o?.ok) q.item.resolve({ result: o.result, queueMs: now - q.enqueuedAt });
            else q.item.reject(o ? fromErrorPayload(o.error) : new InternalError('no outcome'));
          });
        }
        this.pump();
      },
      (err: SieError) => {
        clearTimeout(timer);
        slot.busy = false;
        if (!timedOut) rejectAll(err);
        this.pump();
      },
    );
  }
}

function isIdle(s: Slot): boolean {
  return s.ready && !s.busy && !s.retired;
}
