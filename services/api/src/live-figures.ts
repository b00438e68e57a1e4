import {
  allDetectionsSubject,
  allHeartbeatsSubject,
  runIdFromSubject,
  type Bus,
  type Subscription,
} from '@sie/bus';
import { FrameDetections, Heartbeat, Stage } from '@sie/contracts';

/** How many of a run's most recent detections messages the latency percentiles cover. */
export const LATENCY_WINDOW = 200;

/** A run's live figures as `GET /v1/runs/:id` shows them. */
export interface LiveJson {
  /** Frames decoded per second (ingest, between its last two heartbeats). */
  fpsIn: number;
  /** Frames published with their detections per second (ingest's heartbeat). */
  fpsOut: number;
  /** Capture → detections published, over the last `LATENCY_WINDOW` frames (ms). */
  latencyMs: { p50: number; p99: number };
  /** Frames ingest dropped since the run (re)started on its node. */
  dropped: number;
  /** When the last heartbeat or detections message came (ISO). */
  updatedAt: string;
}

interface RunLive {
  beat: { atMs: number; framesIn: number } | undefined;
  fpsIn: number;
  fpsOut: number;
  dropped: number;
  /** Ring of the last LATENCY_WINDOW latencies. */
  latencies: number[];
  next: number;
  updatedAtMs: number;
}

/**
 * Live figures of each run from what flows on NATS: ingest's heartbeats (`sie.hb.<run>.ingest`:
 * frame counters and fps) and every detections message's `latencyMs`. A map bounded by
 * `maxRuns` (the runs updated longest ago are forgotten first), like the latest detections.
 */
export class LiveFigures {
  private readonly runs = new Map<string, RunLive>();
  private readonly subs: Subscription[] = [];

  constructor(private readonly maxRuns: number) {}

  start(bus: Bus): void {
    this.subs.push(
      bus.nc.subscribe(allDetectionsSubject(), {
        callback: (err, msg) => {
          if (err) return;
          const runId = runIdFromSubject(msg.subject);
          if (!runId) return;
          let latencyMs: number;
          try {
            latencyMs = FrameDetections.decode(msg.data).latencyMs;
          } catch {
            return;
          }
          this.latency(runId, latencyMs);
        },
      }),
      bus.nc.subscribe(allHeartbeatsSubject(), {
        callback: (err, msg) => {
          if (err) return;
          let hb: Heartbeat;
          try {
            hb = Heartbeat.decode(msg.data);
          } catch {
            return;
          }
          if (hb.stage === Stage.STAGE_INGEST && hb.runId) this.heartbeat(hb);
        },
      }),
    );
  }

  /** Records one frame's capture → detections latency. */
  latency(runId: string, latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    const r = this.touch(runId);
    if (r.latencies.length < LATENCY_WINDOW) r.latencies.push(latencyMs);
    else r.latencies[r.next] = latencyMs;
    r.next = (r.next + 1) % LATENCY_WINDOW;
  }

  /** Records one heartbeat of the run's ingest. */
  heartbeat(hb: Heartbeat): void {
    const r = this.touch(hb.runId);
    const prev = r.beat;
    if (prev && hb.atMs > prev.atMs && hb.framesIn >= prev.framesIn) {
      r.fpsIn = round2(((hb.framesIn - prev.framesIn) * 1000) / (hb.atMs - prev.atMs));
    } else if (!prev || hb.framesIn < prev.framesIn) {
      // The first heartbeat, or a restarted ingest: its published rate is the best guess.
      r.fpsIn = round2(hb.fps);
    }
    r.beat = { atMs: hb.atMs, framesIn: hb.framesIn };
    r.fpsOut = round2(hb.fps);
    r.dropped = hb.framesDropped;
  }

  get(runId: string): LiveJson | null {
    const r = this.runs.get(runId);
    if (!r) return null;
    const sorted = [...r.latencies].sort((a, b) => a - b);
    return {
      fpsIn: r.fpsIn,
      fpsOut: r.fpsOut,
      latencyMs: { p50: round2(percentile(sorted, 0.5)), p99: round2(percentile(sorted, 0.99)) },
      dropped: r.dropped,
      updatedAt: new Date(r.updatedAtMs).toISOString(),
    };
  }

  stop(): void {
    for (const s of this.subs.splice(0)) s.unsubscribe();
  }

  private touch(runId: string): RunLive {
    let r = this.runs.get(runId);
    this.runs.delete(runId);
    r ??= {
      beat: undefined,
      fpsIn: 0,
      fpsOut: 0,
      dropped: 0,
      latencies: [],
      next: 0,
      updatedAtMs: 0,
    };
    r.updatedAtMs = Date.now();
    this.runs.set(runId, r);
    if (this.runs.size > this.maxRuns) {
      const oldest = this.runs.keys().next().value;
      if (oldest !== undefined) this.runs.delete(oldest);
    }
    return r;
  }
}

/** Nearest-rank percentile of sorted values; 0 when there are none. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
