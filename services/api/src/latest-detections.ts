import { allDetectionsSubject, runIdFromSubject, type Bus, type Subscription } from '@sie/bus';
import { FrameDetections } from '@sie/contracts';

/**
 * The most recent detections message of each run, kept as raw bytes (decoded only when asked),
 * in a map bounded by `maxRuns` (oldest-updated runs are forgotten first).
 */
export class LatestDetections {
  private readonly latest = new Map<string, Uint8Array>();
  private sub: Subscription | undefined;

  constructor(private readonly maxRuns: number) {}

  start(bus: Bus): void {
    this.sub = bus.nc.subscribe(allDetectionsSubject(), {
      callback: (err, msg) => {
        if (err) return;
        const runId = runIdFromSubject(msg.subject);
        if (!runId) return;
        this.latest.delete(runId);
        this.latest.set(runId, msg.data);
        if (this.latest.size > this.maxRuns) {
          const oldest = this.latest.keys().next().value;
          if (oldest !== undefined) this.latest.delete(oldest);
        }
      },
    });
  }

  get(runId: string): FrameDetections | undefined {
    const data = this.latest.get(runId);
    return data ? FrameDetections.decode(data) : undefined;
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}
