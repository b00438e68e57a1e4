/**
 * What "delivering frames" means in the fault suite, measured from outside like a user would:
 * for every run, the database says `active` on a node, its detections arrive on `sie.det.<run>`,
 * the rules stage counts its frames, and its annotated output reaches the RTSP server (the bytes
 * the server receives on the run's path grow). Time to recover is from the fault to the first
 * check where all of it holds again.
 */
import { detectionsSubject } from '@sie/bus';
import { FrameDetections } from '@sie/contracts';
import type { FaultStack } from './stack.js';

export interface WatchedRun {
  id: string;
  /** The RTSP output path (`output.path` of the run). */
  outputPath: string;
}

type Scrape = (name: string, ...labels: string[]) => number;

export async function scrape(opsPort: number): Promise<Scrape> {
  let text = '';
  try {
    const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`, {
      signal: AbortSignal.timeout(3000),
    });
    text = await res.text();
  } catch {
    // Down (being restarted): every series reads 0.
  }
  return (name, ...labels) => {
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      if (labels.every((l) => (m[2] ?? '').includes(l))) sum += Number(m[3]);
    }
    return sum;
  };
}

export class RunMonitor {
  /** Arrival times (ms) of each run's detections. */
  private readonly arrivals = new Map<string, number[]>();

  constructor(
    private readonly stack: FaultStack,
    readonly runs: WatchedRun[],
  ) {
    for (const run of runs) this.watch(run.id);
  }

  watch(runId: string): void {
    if (this.arrivals.has(runId)) return;
    const list: number[] = [];
    this.arrivals.set(runId, list);
    this.stack.bus.subscribe(detectionsSubject(runId), FrameDetections, () => {
      list.push(Date.now());
      if (list.length > 5000) list.splice(0, 1000);
    });
  }

  /** Detections of `runId` that arrived after `since`. */
  detectionsSince(runId: string, since: number): number {
    return this.arrivalsSince(runId, since).length;
  }

  /** Arrival times (ms) of the detections of `runId` after `since`. */
  arrivalsSince(runId: string, since: number): number[] {
    return (this.arrivals.get(runId) ?? []).filter((t) => t > since);
  }

  /**
   * Waits until every run (default: all) delivers again; resolves with each run's time from
   * `since` to its first full check, or rejects naming what was still missing.
   */
  async waitDelivering(
    since: number,
    timeoutMs: number,
    runs: WatchedRun[] = this.runs,
  ): Promise<Map<string, number>> {
    const recovered = new Map<string, number>();
    let prev: { rules: Scrape; rtsp: Scrape } | undefined;
    const deadline = Date.now() + timeoutMs;
    let missing: string[] = [];
    for (;;) {
      const now = Date.now();
      const [rows, rules, rtsp] = await Promise.all([
        this.stack.runs(runs.map((r) => r.id)).catch(() => []),
        scrape(this.stack.proc('rules').opsPort),
        scrape(this.stack.proc('rtsp').opsPort),
      ]);
      missing = [];
      for (const run of runs) {
        if (recovered.has(run.id)) continue;
        const row = rows.find((r) => r.id === run.id);
        if (row?.status === 'failed' || row?.status === 'inactive') {
          // Final: it will never deliver again.
          throw new Error(
            `run ${run.id} ended ${row.status}/${row.reasonCode}: ${row.reasonMessage}`,
          );
        }
        const why: string[] = [];
        if (row?.status !== 'active' || !row.nodeId) why.push(`status ${row?.status ?? '?'}`);
        const recent = (this.arrivals.get(run.id) ?? []).filter((t) => t > since);
        const last = recent[recent.length - 1] ?? 0;
        if (recent.length < 2 || now - last > 3000) why.push('no fresh detections');
        const r = `run="${run.id}"`;
        const p = `path="${run.outputPath.replace(/^\//, '')}"`;
        const rulesGrew =
          prev !== undefined &&
          rules('sie_rules_frames_total', r) > prev.rules('sie_rules_frames_total', r);
        if (!rulesGrew) why.push('rules idle');
        const bytes = 'sie_rtsp_path_bytes_received_total';
        const outGrew = prev !== undefined && rtsp(bytes, p) > prev.rtsp(bytes, p);
        if (!outGrew) why.push('no RTSP output');
        if (why.length === 0) recovered.set(run.id, now - since);
        else missing.push(`${run.id}: ${why.join(', ')}`);
      }
      if (missing.length === 0) return recovered;
      if (Date.now() > deadline) {
        throw new Error(`not delivering ${timeoutMs} ms after the fault: ${missing.join('; ')}`);
      }
      prev = { rules, rtsp };
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
