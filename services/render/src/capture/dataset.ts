import type { Detection } from '@sie/contracts';

/**
 * The dataset layout (documented in docs/snapshots-and-capture.md):
 *   images/<run>/<seq>.jpg    the raw frame, not annotated
 *   labels/<run>/<seq>.txt    YOLO: `class cx cy w h` per detection, normalised to 0-1
 *   classes.txt               class names, line i = class id i
 *   manifest.jsonl            one JSON line per captured frame (S3: manifests/<run>.jsonl)
 */
export const imageKey = (runId: string, seq: number): string => `images/${runId}/${seq}.jpg`;
export const labelKey = (runId: string, seq: number): string => `labels/${runId}/${seq}.txt`;
export const CLASSES_KEY = 'classes.txt';
export const manifestKey = (runId: string, appends: boolean): string =>
  appends ? 'manifest.jsonl' : `manifests/${runId}.jsonl`;

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));
const fmt = (v: number): string => clamp01(v).toFixed(6);

/** YOLO label lines of a frame's detections (boxes in pixels of a `width × height` frame). */
export function yoloLines(detections: readonly Detection[], width: number, height: number): string {
  let out = '';
  for (const d of detections) {
    const b = d.box;
    if (!b || width <= 0 || height <= 0) continue;
    const x1 = clamp01(Math.min(b.x1, b.x2) / width);
    const x2 = clamp01(Math.max(b.x1, b.x2) / width);
    const y1 = clamp01(Math.min(b.y1, b.y2) / height);
    const y2 = clamp01(Math.max(b.y1, b.y2) / height);
    if (x2 <= x1 || y2 <= y1) continue;
    out += `${d.classId} ${fmt((x1 + x2) / 2)} ${fmt((y1 + y2) / 2)} ${fmt(x2 - x1)} ${fmt(y2 - y1)}\n`;
  }
  return out;
}

export interface ManifestEntry {
  run: string;
  seq: number;
  ptsMs: number;
  captureTimeMs: number;
  image: string;
  label: string;
  width: number;
  height: number;
  modelId: string;
  detections: {
    classId: number;
    className: string;
    score: number;
    box: [number, number, number, number];
  }[];
}

export function manifestEntry(
  runId: string,
  frame: { seq: number; ptsMs: number; captureTimeMs: number; width: number; height: number },
  detections: readonly Detection[],
  modelId: string,
): ManifestEntry {
  const r = (v: number): number => Math.round(v * 10) / 10;
  return {
    run: runId,
    seq: frame.seq,
    ptsMs: frame.ptsMs,
    captureTimeMs: frame.captureTimeMs,
    image: imageKey(runId, frame.seq),
    label: labelKey(runId, frame.seq),
    width: frame.width,
    height: frame.height,
    modelId,
    detections: detections
      .filter((d) => d.box)
      .map((d) => ({
        classId: d.classId,
        className: d.label,
        score: Math.round(d.score * 1000) / 1000,
        box: [r(d.box!.x1), r(d.box!.y1), r(d.box!.x2), r(d.box!.y2)],
      })),
  };
}

/** classes.txt from the class names seen so far (ids never seen get a `class<id>` placeholder). */
export function classesText(names: ReadonlyMap<number, string>): string {
  let max = -1;
  for (const id of names.keys()) max = Math.max(max, id);
  const lines: string[] = [];
  for (let i = 0; i <= max; i++) lines.push(names.get(i) ?? `class${i}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * Which frames to keep: every Nth processed frame (the 1st, N+1th, …), or the first frame at
 * least `intervalMs` (of capture time) after the last kept one; at most `maxFrames`.
 */
export class FrameSampler {
  private seen = 0;
  private kept = 0;
  private lastKeptAt = -Infinity;

  constructor(
    private readonly o: { everyNthFrame?: number; intervalMs?: number; maxFrames?: number },
  ) {}

  get done(): boolean {
    return this.o.maxFrames !== undefined && this.kept >= this.o.maxFrames;
  }

  /** Whether this frame is sampled (before the detections filter). */
  sample(captureTimeMs: number): boolean {
    if (this.done) return false;
    const index = this.seen++;
    if (this.o.intervalMs !== undefined) {
      if (captureTimeMs - this.lastKeptAt < this.o.intervalMs) return false;
      this.lastKeptAt = captureTimeMs;
      return true;
    }
    return index % (this.o.everyNthFrame ?? 1) === 0;
  }

  /** Reserves a slot before the (asynchronous) write, so `maxFrames` is never exceeded. */
  reserve(): boolean {
    if (this.done) return false;
    this.kept++;
    return true;
  }
}
