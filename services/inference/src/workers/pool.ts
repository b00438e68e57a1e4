import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { SieError } from '@sie/errors';
import { InternalError, TimeoutError, UnavailableError, fromErrorPayload } from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import type { ModelIo } from '../models/model-io.js';
import type { ModelConfig } from '../models/spec.js';
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
  /** A job refused before it ran: `queue_full` or `shutting_down`. */
  onRefused?: (reason: 'queue_full' | 'shutting_down') => void;
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
  enqueuedAt: number;
  resolve(r: PoolResult): void;
  reject(err: SieError): void;
}

const RESTART_MAX_DELAY_MS = 5000;

/**
 * A fixed set of inference worker threads, each holding a session of every loaded model, fed
 * from one FIFO queue (a job goes to the first idle worker). A worker that dies fails its
 * in-flight job with a clear error and is replaced, with its models loaded again; the service
 * itself keeps running.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: QueuedJob[] = [];
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
    return this.queue.length;
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
    return first.value;
  }

  unload(key: string): void {
    this.wanted.delete(key);
    for (const s of this.slots) if (s.alive) this.send(s, { type: 'unload', key });
  }

  /** Queues a job; `transfer` lists buffers handed to the worker instead of copied. */
  run(job: DetectJob, transfer: ArrayBuffer[] = []): Promise<PoolResult> {
    if (this.closed) {
      this.o.onRefused?.('shutting_down');
      return Promise.reject(new UnavailableError('the inference service is shutting down'));
    }
    if (this.queue.length >= this.o.queueLimit && !this.slots.some(isIdle)) {
      this.o.onRefused?.('queue_full');
      return Promise.reject(
        new UnavailableError(`inference queue is full (${this.queue.length} jobs waiting)`),
      );
    }
    return new Promise<PoolResult>((resolve, reject) => {
      this.queue.push({ job, transfer, enqueuedAt: performance.now(), resolve, reject });
      this.pump();
    });
  }

  /** Refuses new jobs, fails queued ones, lets running ones finish (up to `graceMs`), ends the threads. */
  async close(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.restarts) clearTimeout(t);
    this.restarts.clear();
    for (const q of this.queue.splice(0)) {
      q.reject(new UnavailableError('the inference service is shutting down'));
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
  ): Promise<{ io: ModelIo; warning: string | null }> {
    return this.request(slot, (id) => ({ type: 'load', id, key, config })).then((msg) => {
      if (msg.type !== 'loaded') throw new InternalError(`unexpected worker reply ${msg.type}`);
      return { io: msg.io, warning: msg.warning };
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

  private pump(): void {
    for (;;) {
      const slot = this.slots.find(isIdle);
      if (!slot) break;
      const next = this.queue.shift();
      if (!next) break;
      this.dispatch(slot, next);
    }
    this.o.onQueueDepth?.(this.queue.length);
  }

  private dispatch(slot: Slot, q: QueuedJob): void {
    slot.busy = true;
    const queueMs = performance.now() - q.enqueuedAt;
    let timedOut = false;
    const timer = setTimeout(() => {
      // A native call that never returns would hold the worker forever: replace the worker.
      timedOut = true;
      q.reject(new TimeoutError('inference', this.o.jobTimeoutMs));
      slot.lastError = new Error(`job exceeded ${this.o.jobTimeoutMs} ms`);
      void slot.worker.terminate();
    }, this.o.jobTimeoutMs);
    timer.unref();
    this.request(slot, (id) => ({ type: 'detect', id, job: q.job }), q.transfer).then(
      (msg) => {
        clearTimeout(timer);
        slot.busy = false;
        slot.failures = 0;
        if (msg.type === 'result') q.resolve({ result: msg.result, queueMs });
        else q.reject(new InternalError(`unexpected worker reply ${msg.type}`));
        this.pump();
      },
      (err: SieError) => {
        clearTimeout(timer);
        slot.busy = false;
        if (!timedOut) q.reject(err);
        this.pump();
      },
    );
  }
}

function isIdle(s: Slot): boolean {
  return s.ready && !s.busy && !s.retired;
}
