import { Counter, Gauge, Histogram, LATENCY_BUCKETS_MS, type Registry } from '@sie/telemetry';

export type DropReason = 'queue_full' | 'slot_overwritten' | 'inference_error';
export const DROP_REASONS: readonly DropReason[] = [
  'queue_full',
  'slot_overwritten',
  'inference_error',
];

/** The service's Prometheus metrics; each run gets its own label series, removed when it ends. */
export class IngestMetrics {
  private readonly decoded: Counter<'run'>;
  private readonly published: Counter<'run'>;
  private readonly dropped: Counter<'run' | 'reason'>;
  private readonly reconnects: Counter<'run'>;
  private readonly detectLatency: Histogram<'run'>;
  readonly activeRuns: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.decoded = new Counter({
      name: 'sie_ingest_frames_decoded_total',
      help: 'Frames decoded from the source',
      labelNames: ['run'],
      registers,
    });
    this.published = new Counter({
      name: 'sie_ingest_frames_published_total',
      help: 'Frames whose detections were published',
      labelNames: ['run'],
      registers,
    });
    this.dropped = new Counter({
      name: 'sie_ingest_frames_dropped_total',
      help: 'Decoded frames not published, by reason',
      labelNames: ['run', 'reason'],
      registers,
    });
    this.reconnects = new Counter({
      name: 'sie_ingest_source_reconnects_total',
      help: 'Times a lost source came back',
      labelNames: ['run'],
      registers,
    });
    this.detectLatency = new Histogram({
      name: 'sie_ingest_detect_latency_ms',
      help: 'Duration of Detect calls, milliseconds',
      labelNames: ['run'],
      buckets: LATENCY_BUCKETS_MS,
      registers,
    });
    this.activeRuns = new Gauge({
      name: 'sie_ingest_active_runs',
      help: 'Runs this ingest holds',
      registers,
    });
  }

  forRun(run: string): RunMetrics {
    return new RunMetrics(run, {
      decoded: this.decoded,
      published: this.published,
      dropped: this.dropped,
      reconnects: this.reconnects,
      detectLatency: this.detectLatency,
    });
  }
}

interface Families {
  decoded: Counter<'run'>;
  published: Counter<'run'>;
  dropped: Counter<'run' | 'reason'>;
  reconnects: Counter<'run'>;
  detectLatency: Histogram<'run'>;
}

/** One run's counters, also kept as plain numbers for its heartbeats. */
export class RunMetrics {
  framesIn = 0;
  framesOut = 0;
  framesDropped = 0;
  readonly dropsByReason: Record<DropReason, number> = {
    queue_full: 0,
    slot_overwritten: 0,
    inference_error: 0,
  };
  private readonly decodedChild: { inc(): void };
  private readonly publishedChild: { inc(): void };
  private readonly latencyChild: { observe(v: number): void };
  private removed = false;

  constructor(
    readonly run: string,
    private readonly f: Families,
  ) {
    // Bound children: no label lookup per frame.
    this.decodedChild = f.decoded.labels({ run });
    this.publishedChild = f.published.labels({ run });
    this.latencyChild = f.detectLatency.labels({ run });
  }

  decodedFrame(): void {
    this.framesIn++;
    if (!this.removed) this.decodedChild.inc();
  }

  publishedFrame(detectMs: number): void {
    this.framesOut++;
    if (this.removed) return;
    this.publishedChild.inc();
    this.latencyChild.observe(detectMs);
  }

  droppedFrame(reason: DropReason): void {
    this.framesDropped++;
    this.dropsByReason[reason]++;
    if (!this.removed) this.f.dropped.inc({ run: this.run, reason });
  }

  reconnected(): void {
    if (!this.removed) this.f.reconnects.inc({ run: this.run });
  }

  /** Drops every series of this run (it ended): a node with many short runs keeps few series. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    const run = this.run;
    this.f.decoded.remove({ run });
    this.f.published.remove({ run });
    this.f.reconnects.remove({ run });
    this.f.detectLatency.remove({ run });
    for (const reason of DROP_REASONS) this.f.dropped.remove({ run, reason });
  }
}
