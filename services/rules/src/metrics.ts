import { Counter, Histogram, LATENCY_BUCKETS_MS, type Registry } from '@sie/telemetry';

/** The rules service's own series; a run's series are removed when the run stops. */
export class RulesMetrics {
  readonly frames: Counter<'run'>;
  readonly events: Counter<'run' | 'kind'>;
  readonly processingMs: Histogram;
  readonly snapshotErrors: Counter;
  readonly publishErrors: Counter;
  readonly duplicates: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.frames = new Counter({
      name: 'sie_rules_frames_total',
      help: 'Detections messages (frames) processed by the rules engine, per run',
      labelNames: ['run'],
      registers,
    });
    this.events = new Counter({
      name: 'sie_rules_events_total',
      help: 'Rule events published, per run and kind',
      labelNames: ['run', 'kind'],
      registers,
    });
    this.processingMs = new Histogram({
      name: 'sie_rules_processing_ms',
      help: 'Time to process one frame: tracking, rules, event and overlay publishing, milliseconds',
      buckets: LATENCY_BUCKETS_MS,
      registers,
    });
    this.snapshotErrors = new Counter({
      name: 'sie_rules_snapshot_errors_total',
      help: 'Run state snapshots that could not be written to or read from NATS KV',
      registers,
    });
    this.publishErrors = new Counter({
      name: 'sie_rules_event_publish_errors_total',
      help: 'Events JetStream did not acknowledge after every retry',
      registers,
    });
    this.duplicates = new Counter({
      name: 'sie_rules_events_duplicate_total',
      help: 'Events re-emitted after a restore that JetStream dropped as duplicates (same id)',
      registers,
    });
  }

  forget(runId: string): void {
    this.frames.remove({ run: runId });
    // Events are labelled by kind too; drop every kind of the run.
    for (const kind of ['zone_enter', 'zone_exit', 'dwell', 'line_cross', 'occupancy', 'absence']) {
      this.events.remove({ run: runId, kind });
    }
  }
}
