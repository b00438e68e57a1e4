import { detectionsSubject, runStageReportsSubject, type Bus } from '@sie/bus';
import { FrameDetections, StageEventKind, StageReport } from '@sie/contracts';

/** Collects what a run publishes: detections in arrival order and its stage reports. */
export class RunWatch {
  readonly detections: FrameDetections[] = [];
  readonly reports: StageReport[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(
    bus: Bus,
    readonly runId: string,
    onDetections?: (d: FrameDetections) => void,
  ) {
    bus.subscribe(detectionsSubject(runId), FrameDetections, (d) => {
      this.detections.push(d);
      onDetections?.(d);
      this.wake();
    });
    bus.subscribe(runStageReportsSubject(runId), StageReport, (r) => {
      this.reports.push(r);
      this.wake();
    });
  }

  /** Resolves with the first report of `kind` (or rejects after `timeoutMs`, listing what came). */
  report(kind: StageEventKind, timeoutMs: number): Promise<StageReport> {
    return this.until(
      () => this.reports.find((r) => r.kind === kind),
      timeoutMs,
      `report ${StageEventKind[kind]}`,
    );
  }

  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = probe();
        if (v === undefined) return false;
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        const seen = this.reports.map((r) => `${StageEventKind[r.kind]}:${r.error?.code ?? ''}`);
        reject(
          new Error(
            `timed out waiting for ${what} on run ${this.runId}; reports: [${seen.join(', ')}], detections: ${this.detections.length}`,
          ),
        );
      }, timeoutMs);
      if (check()) return;
      const waiter = (): void => {
        if (!check()) this.waiters.push(waiter);
      };
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
