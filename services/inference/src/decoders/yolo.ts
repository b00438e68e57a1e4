import { ModelError } from '@sie/errors';
import { bestClass, fromCenter, toImagePixels } from './boxes.js';
import { nmsPerClass } from './nms.js';
import type { DecodeOptions, Decoder, DecoderIo, RawDetection } from './types.js';

/**
 * Ultralytics output layouts. `v8` (YOLOv8, YOLO11): [1, 4 + C, N], one row per value across all
 * anchors, class scores without objectness. `v5` (YOLOv5, YOLOv7): [1, N, 5 + C], one row per
 * anchor, objectness before the class scores.
 */
export type YoloLayout = 'v8' | 'v5';

/**
 * The layout a network's declared output has for `numClasses` classes: `auto` picks the one
 * whose value count fits (84 rows is v8, 85 columns is v5 for 80 classes). ModelError when the
 * shape fits neither, fits both, or is too symbolic to tell.
 */
export function yoloLayout(requested: YoloLayout | 'auto', io: DecoderIo): YoloLayout {
  const [, rows, cols] = io.outputShape;
  const c = io.numClasses;
  const shape = `[${io.outputShape.join(',')}]`;
  const fitsV8 = rows === 4 + c;
  const fitsV5 = cols === 5 + c;
  const need =
    `${c} classes need [1,${4 + c},anchors] (v8: box, then class scores) ` +
    `or [1,anchors,${5 + c}] (v5: box, objectness, class scores)`;
  if (requested === 'v8' && (fitsV8 || typeof rows === 'string')) return 'v8';
  if (requested === 'v5' && (fitsV5 || typeof cols === 'string')) return 'v5';
  if (requested !== 'auto') {
    const wanted = requested === 'v8' ? `[1,${4 + c},anchors]` : `[1,anchors,${5 + c}]`;
    throw new ModelError(
      `yolo output is ${shape}; layout ${requested} with ${c} classes needs ${wanted}`,
      io.modelId,
    );
  }
  if (fitsV8 && fitsV5) {
    throw new ModelError(
      `yolo output ${shape} fits both layouts for ${c} classes; set decoder.layout to v8 or v5`,
      io.modelId,
    );
  }
  if (fitsV8) return 'v8';
  if (fitsV5) return 'v5';
  if (typeof rows === 'string' || typeof cols === 'string') {
    throw new ModelError(
      `yolo output ${shape} does not tell its layout; ${need}, or set decoder.layout`,
      io.modelId,
    );
  }
  throw new ModelError(`yolo output is ${shape}; ${need}`, io.modelId);
}

/**
 * Ultralytics YOLO exported without NMS: boxes are cx, cy, w, h in input pixels and scores are
 * already sigmoid. Best class per anchor (score = class score, × objectness for v5), then
 * per-class NMS, as Ultralytics' non_max_suppression does (single label). Preprocessing (RGB,
 * 1/255, pad 114, centred letterbox) comes from the model spec.
 */
export class YoloDecoder implements Decoder {
  readonly type = 'yolo';
  readonly layout: YoloLayout;
  private readonly values: number;
  /** v8: best score and class of every anchor, reused across frames. */
  private bestScore = new Float32Array(0);
  private bestClass = new Int32Array(0);

  constructor(
    layout: YoloLayout | 'auto',
    private readonly io: DecoderIo,
  ) {
    this.layout = yoloLayout(layout, io);
    this.values = (this.layout === 'v8' ? 4 : 5) + io.numClasses;
  }

  decode(output: Float32Array, o: DecodeOptions): RawDetection[] {
    const anchors = output.length / this.values;
    if (!Number.isInteger(anchors)) {
      throw new ModelError(
        `yolo output holds ${output.length} values, not a multiple of ${this.values}`,
        this.io.modelId,
      );
    }
    const candidates =
      this.layout === 'v8' ? this.candidatesV8(output, anchors, o) : this.candidatesV5(output, o);
    return toImagePixels(nmsPerClass(candidates, o.nmsIou, o.maxDetections), o);
  }

  /**
   * Rows are values and columns anchors: a pass per class row (sequential reads, not one strided
   * read per anchor and class) keeps each anchor's best score, the lowest class id on a tie.
   */
  private candidatesV8(out: Float32Array, n: number, o: DecodeOptions): RawDetection[] {
    if (this.bestScore.length !== n) {
      this.bestScore = new Float32Array(n);
      this.bestClass = new Int32Array(n);
    }
    const best = this.bestScore.fill(-Infinity);
    const cls = this.bestClass.fill(-1);
    const mask = o.classMask;
    for (let k = 0; k < this.io.numClasses; k++) {
      if (mask && mask[k] !== 1) continue;
      const row = (4 + k) * n;
      for (let i = 0; i < n; i++) {
        const p = out[row + i] as number;
        if (p > (best[i] as number)) {
          best[i] = p;
          cls[i] = k;
        }
      }
    }
    const candidates: RawDetection[] = [];
    for (let i = 0; i < n; i++) {
      const score = best[i] as number;
      const k = cls[i] as number;
      if (k < 0 || score < o.scoreThreshold) continue;
      const cx = out[i] as number;
      const cy = out[n + i] as number;
      const w = out[2 * n + i] as number;
      const h = out[3 * n + i] as number;
      candidates.push(fromCenter(k, score, cx, cy, w, h));
    }
    return candidates;
  }

  /** One row per anchor: box, objectness, class scores (YOLOX's decoded layout). */
  private candidatesV5(out: Float32Array, o: DecodeOptions): RawDetection[] {
    const stride = this.values;
    const classes = this.io.numClasses;
    const mask = o.classMask;
    const threshold = o.scoreThreshold;
    const candidates: RawDetection[] = [];
    for (let base = 0; base + stride <= out.length; base += stride) {
      const obj = out[base + 4] as number;
      // score = obj × p with p ≤ 1: an anchor below the threshold on objectness alone is out.
      if (obj < threshold) continue;
      const best = bestClass(out, base + 5, classes, mask);
      if (best < 0) continue;
      const score = obj * (out[base + 5 + best] as number);
      if (score < threshold) continue;
      const cx = out[base] as number;
      const cy = out[base + 1] as number;
      const w = out[base + 2] as number;
      const h = out[base + 3] as number;
      candidates.push(fromCenter(best, score, cx, cy, w, h));
    }
    return candidates;
  }
}
