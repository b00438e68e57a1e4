import type { FrameDetections } from '@sie/contracts';
import type { FrameStoreReaders } from '@sie/framestore';
import type { CaptureConfig } from '@sie/pipeline';
import type { Logger } from '@sie/telemetry';
import { encodeJpeg, DEFAULT_JPEG_QUALITY, type Limiter } from '../jpeg.js';
import {
  CLASSES_KEY,
  FrameSampler,
  classesText,
  imageKey,
  labelKey,
  manifestEntry,
  manifestKey,
  yoloLines,
} from './dataset.js';
import type { CaptureDestination } from './destinations.js';

export interface CaptureMetrics {
  frame(destination: string): void;
  error(destination: string): void;
}

export interface FrameCaptureDeps {
  destination: CaptureDestination;
  readers: FrameStoreReaders;
  limiter: Limiter;
  metrics: CaptureMetrics;
  logger: Logger;
}

/**
 * A run's dataset capture: samples the frames announced by their detections, reads each sampled
 * frame from the frame store at once (before its slot is reused), and writes the raw image, its
 * YOLO labels and a manifest line. Every failure is counted and logged and the run goes on; when
 * more than `maxPending` frames wait for their writes, new samples are skipped (and counted).
 */
export class FrameCapture {
  private readonly sampler: FrameSampler;
  private readonly classNames = new Map<number, string>();
  private classesWritten = '';
  private pending = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    readonly runId: string,
    private readonly config: CaptureConfig,
    /** The pipeline's model (when a detections message names none). */
    private readonly modelId: string,
    private readonly deps: FrameCaptureDeps,
    private readonly maxPending = 8,
  ) {
    this.sampler = new FrameSampler(config);
  }

  onDetections(d: FrameDetections): void {
    const ref = d.frame;
    if (this.stopped || !ref || !this.sampler.sample(ref.captureTimeMs)) return;
    if (this.config.onlyWithDetections && d.detections.length === 0) return;
    const dest = this.deps.destination;
    if (this.pending >= this.maxPending) {
      this.deps.metrics.error(dest.type);
      this.deps.logger.warn({ run: this.runId, seq: ref.seq }, 'capture behind: frame skipped');
      return;
    }
    let pixels: Buffer;
    try {
      pixels = this.deps.readers.read(ref);
    } catch (err) {
      this.deps.metrics.error(dest.type);
      this.deps.logger.warn({ err, run: this.runId, seq: ref.seq }, 'capture: frame unreadable');
      return;
    }
    if (!this.sampler.reserve()) return;
    for (const det of d.detections) {
      if (det.label && !this.classNames.has(det.classId)) {
        this.classNames.set(det.classId, det.label);
      }
    }
    this.pending++;
    const p = this.write(d, pixels)
      .then(() => this.deps.metrics.frame(dest.type))
      .catch((err: unknown) => {
        this.deps.metrics.error(dest.type);
        this.deps.logger.warn({ err, run: this.runId, seq: ref.seq }, 'capture write failed');
      })
      .finally(() => {
        this.pending--;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  /** Lets writes in flight finish (the run is stopping). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async write(d: FrameDetections, pixels: Buffer): Promise<void> {
    const ref = d.frame!;
    const dest = this.deps.destination;
    const jpeg = await this.deps.limiter.run(() =>
      encodeJpeg(
        { data: pixels, width: ref.width, height: ref.height },
        this.config.quality ?? DEFAULT_JPEG_QUALITY,
      ),
    );
    const seq = ref.seq;
    // Image and labels before the manifest line: a line never names files that are not there.
    await dest.put(imageKey(this.runId, seq), jpeg, 'image/jpeg');
    await dest.put(
      labelKey(this.runId, seq),
      Buffer.from(yoloLines(d.detections, ref.width, ref.height)),
      'text/plain',
    );
    const classes = classesText(this.classNames);
    if (classes !== this.classesWritten && classes.length > 0) {
      this.classesWritten = classes;
      await dest.put(CLASSES_KEY, Buffer.from(classes), 'text/plain');
    }
    const entry = manifestEntry(this.runId, ref, d.detections, d.modelId || this.modelId);
    await dest.append(
      manifestKey(this.runId, dest.appends),
      `${JSON.stringify(entry)}\n`,
      'application/x-ndjson',
    );
  }
}
