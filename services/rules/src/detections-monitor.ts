import { allDetectionsSubject, runIdFromSubject, type Bus, type Subscription } from '@sie/bus';
import { Counter, type Registry } from '@sie/telemetry';

/**
 * Counts the detections messages each run publishes. The rules issue replaces this with per-run
 * trackers and rule evaluation; until then it proves the service receives the frame path.
 */
export class DetectionsMonitor {
  private readonly receivedTotal: Counter<'run'>;
  private readonly counts = new Map<string, number>();
  private sub: Subscription | undefined;

  constructor(registry: Registry) {
    this.receivedTotal = new Counter({
      name: 'sie_rules_detections_received_total',
      help: 'Detections messages received, per run',
      labelNames: ['run'],
      registers: [registry],
    });
  }

  start(bus: Bus, queue: string): void {
    this.sub = bus.nc.subscribe(allDetectionsSubject(), {
      queue,
      callback: (err, msg) => {
        if (err) return;
        const run = runIdFromSubject(msg.subject);
        if (!run) return;
        this.receivedTotal.inc({ run });
        this.counts.set(run, (this.counts.get(run) ?? 0) + 1);
      },
    });
  }

  /** Detections messages received for a run so far. */
  receivedFor(runId: string): number {
    return this.counts.get(runId) ?? 0;
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}
