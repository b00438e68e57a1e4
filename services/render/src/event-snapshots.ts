import { runEventsSubject, type Bus, type Subscription } from '@sie/bus';
import { Event, type FrameRef, type Overlay, type Shape } from '@sie/contracts';
import type { FrameStoreReaders } from '@sie/framestore';
import type { SnapshotsConfig } from '@sie/pipeline';
import type { Logger } from '@sie/telemetry';
import { resizeNearest, type Raster } from './draw.js';
import { DEFAULT_JPEG_QUALITY, encodeJpeg, type Limiter } from './jpeg.js';
import { drawShapes, type DrawStyle } from './overlay.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface SnapshotMetrics {
  written(): void;
  error(): void;
}

export interface EventSnapshotsDeps {
  bus: Bus;
  readers: FrameStoreReaders;
  store: SnapshotStore;
  limiter: Limiter;
  metrics: SnapshotMetrics;
  logger: Logger;
  /** The run's newest annotated output frame, for an event whose own frame is gone. */
  latestAnnotated: () => Raster | undefined;
}

export interface EventSnapshotsOptions {
  style: DrawStyle;
  /** The run's fixed output size, if the pipeline sets one (else the frame's own size). */
  outputSize: { width: number; height: number } | undefined;
  /** How long to wait for the overlay of the event's frame (rules publishes it just after). */
  overlayWaitMs: number;
}

interface FrameShapes {
  shapes: readonly Shape[];
  width: number;
  height: number;
}

const RECENT_OVERLAYS = 64;
/** Snapshots of a run waiting for their turn; a burst beyond it is skipped (and counted). */
const MAX_IN_FLIGHT = 32;

/** A frame's identity: a restarted ingest starts its seqs at 1 again, in a new ring. */
const frameKey = (f: FrameRef): string => `${f.store}:${f.seq}:${f.captureTimeMs}`;

/**
 * A run's event snapshots: on each rule event (`sie.evt.<tenant>.<run>.*`, a core subscription
 * beside the JetStream stream), reads the event's frame from the frame store at once, draws the
 * overlay rules made for that very frame (it arrives just after the event; the newest one is used
 * when it does not come in time), encodes a JPEG and stores it under the event's id. When the
 * frame's slot was already reused, the newest annotated output frame stands in for it.
 */
export class EventSnapshots {
  private sub: Subscription | undefined;
  private readonly overlays = new Map<string, FrameShapes>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private latest: FrameShapes | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    readonly tenantId: string,
    readonly runId: string,
    private readonly config: SnapshotsConfig,
    private readonly options: EventSnapshotsOptions,
    private readonly deps: EventSnapshotsDeps,
  ) {}

  start(): void {
    const retention = { maxCount: this.config.maxCount, maxAgeMs: this.config.maxAgeMs };
    this.track(
      this.deps.store.setRetention(this.tenantId, this.runId, retention).catch((err: unknown) => {
        this.deps.logger.warn({ err, run: this.runId }, 'snapshot retention not stored');
      }),
    );
    this.sub = this.deps.bus.subscribe(runEventsSubject(this.tenantId, this.runId), Event, (e) =>
      this.onEvent(e),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sub?.unsubscribe();
    for (const ws of this.waiters.values()) for (const w of ws) w();
    this.waiters.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Every overlay of the run (RenderRun hands them over as they come). */
  onOverlay(o: Overlay): void {
    if (!o.frame) return;
    const shapes: FrameShapes = { shapes: o.shapes, width: o.frame.width, height: o.frame.height };
    this.latest = shapes;
    const key = frameKey(o.frame);
    this.overlays.set(key, shapes);
    if (this.overlays.size > RECENT_OVERLAYS) {
      this.overlays.delete(this.overlays.keys().next().value!);
    }
    const ws = this.waiters.get(key);
    if (ws) {
      this.waiters.delete(key);
      for (const w of ws) w();
    }
  }

  private onEvent(e: Event): void {
    if (this.stopped) return;
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      // Each waiting snapshot holds a whole frame: a storm of events must not grow memory.
      this.deps.metrics.error();
      this.deps.logger.warn({ run: this.runId, event: e.id }, 'snapshots behind: event skipped');
      return;
    }
    // Read now, before the ring reuses the slot; draw once the frame's overlay is here.
    let frame: Raster | undefined;
    if (e.frame && e.frame.width > 0) {
      try {
        const data = this.deps.readers.read(e.frame);
        frame = { data, width: e.frame.width, height: e.frame.height };
      } catch (err) {
        this.deps.logger.debug({ err, run: this.runId, event: e.id }, 'event frame gone');
      }
    }
    this.track(
      this.snapshot(e, frame).catch((err: unknown) => {
        this.deps.metrics.error();
        this.deps.logger.warn({ err, run: this.runId, event: e.id }, 'snapshot failed');
      }),
    );
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async snapshot(e: Event, frame: Raster | undefined): Promise<void> {
    let image: Raster;
    if (frame && e.frame) {
      const shapes = await this.overlayOf(e.frame);
      const size = this.options.outputSize ?? { width: frame.width, height: frame.height };
      image = frame;
      if (size.width !== frame.width || size.height !== frame.height) {
        image = { data: Buffer.alloc(size.width * size.height * 3), ...size };
        resizeNearest(frame, image);
      }
      if (shapes) {
        drawShapes(
          image,
          shapes.shapes,
          this.options.style,
          shapes.width || frame.width,
          shapes.height || frame.height,
        );
      }
    } else {
      const latest = this.deps.latestAnnotated();
      if (!latest) throw new Error('neither the event frame nor an output frame is available');
      image = { data: Buffer.from(latest.data), width: latest.width, height: latest.height };
    }
    const jpeg = await this.deps.limiter.run(() =>
      encodeJpeg(image, this.config.quality ?? DEFAULT_JPEG_QUALITY),
    );
    await this.deps.store.write(this.tenantId, this.runId, e.id, jpeg);
    this.deps.metrics.written();
    await this.deps.store.prune(
      this.tenantId,
      this.runId,
      { maxCount: this.config.maxCount, maxAgeMs: this.config.maxAgeMs },
      Date.now(),
    );
  }

  /** The overlay of `ref`, waiting up to `overlayWaitMs` for it; else the newest one. */
  private async overlayOf(ref: FrameRef): Promise<FrameShapes | undefined> {
    const key = frameKey(ref);
    if (!this.overlays.has(key) && !this.stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.overlayWaitMs);
        const ws = this.waiters.get(key) ?? [];
        ws.push(() => {
          clearTimeout(timer);
          resolve();
        });
        this.waiters.set(key, ws);
      });
      // A timed-out waiter stays in the list until the overlay comes or the run stops; drop it.
      if (!this.overlays.has(key)) this.waiters.delete(key);
    }
    return this.overlays.get(key) ?? this.latest;
  }
}
