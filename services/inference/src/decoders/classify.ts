import { ModelError } from '@sie/errors';
import type { DecodeOptions, Decoder, DecoderIo, RawDetection } from './types.js';

/**
 * Image classification, output [1, C]: logits (softmax here) or probabilities. The best `topK`
 * classes become detections whose box is the whole image, best first; the score threshold, the
 * class filter and the request's limit apply as to boxes. Probabilities are over all classes,
 * before the class filter, so a filtered class keeps the score it has unfiltered.
 */
export class ClassifyDecoder implements Decoder {
  readonly type = 'classify';
  private readonly probs: Float64Array;

  constructor(
    readonly softmax: boolean,
    readonly topK: number,
    private readonly io: DecoderIo,
  ) {
    const [, c] = io.outputShape;
    if (io.outputShape.length !== 2 || (typeof c === 'number' && c !== io.numClasses)) {
      throw new ModelError(
        `classify output is [${io.outputShape.join(',')}]; ${io.numClasses} classes need [1,${io.numClasses}]`,
        io.modelId,
      );
    }
    this.probs = new Float64Array(io.numClasses);
  }

  decode(output: Float32Array, o: DecodeOptions): RawDetection[] {
    const classes = this.io.numClasses;
    if (output.length !== classes) {
      throw new ModelError(
        `classify output holds ${output.length} values for ${classes} classes`,
        this.io.modelId,
      );
    }
    const p = this.probs;
    for (let k = 0; k < classes; k++) p[k] = output[k] as number;
    if (this.softmax) softmaxInPlace(p);
    const picked: number[] = [];
    for (let k = 0; k < classes; k++) {
      if (o.classMask && o.classMask[k] !== 1) continue;
      if ((p[k] as number) >= o.scoreThreshold) picked.push(k);
    }
    // Best first; a tie goes to the lower class id (a stable order for equal logits).
    picked.sort((a, b) => (p[b] as number) - (p[a] as number) || a - b);
    const limit = o.maxDetections > 0 ? Math.min(this.topK, o.maxDetections) : this.topK;
    return picked.slice(0, limit).map((k) => ({
      classId: k,
      score: p[k] as number,
      x1: 0,
      y1: 0,
      x2: o.imageWidth,
      y2: o.imageHeight,
    }));
  }
}

/** exp(x - max) / sum: the max shift keeps large logits from overflowing. */
export function softmaxInPlace(v: Float64Array): void {
  let max = -Infinity;
  for (const x of v) if (x > max) max = x;
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const e = Math.exp((v[i] as number) - max);
    v[i] = e;
    sum += e;
  }
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / sum;
}
