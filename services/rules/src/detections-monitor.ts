import { allDetectionsSubject, runIdFromSubject, type Bus, type Subscription } from '@sie/bus';
import { Counter, type Registry } from '@sie/telemetry';

/**
 * Counts the detections messages each run publishes. The rules issue replaces this with per-run
 * trackers and rule evaluation; until then it proves the service receives the frame path.
 */
export class DetectionsMonitor {
  private readonly received: Counter<'run'>;
  private readonly lastSeen = new Map<string, number>();
  private sub: Subscription | undefined;

  constructor(registry: Registry) {
    this.received = new Counter({
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
        this.received.inc({ run });
        this.lastSeen.set(run, Date.now());
      },
    });
  }

  /** Runs heard from within the last `windowMs`. */
  activeRuns(windowMs = 10_000): string[] {
    const since = Date.now() - windowMs;
    return [...this.lastSeen].filter(([, at]) => at >= since).map(([run]) => run);
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}
