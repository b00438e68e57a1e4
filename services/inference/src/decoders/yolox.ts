import { ModelError } from '@sie/errors';
import { bestClass, fromCenter, toImagePixels } from './boxes.js';
import { nmsPerClass } from './nms.js';
import type { DecodeOptions, Decoder, DecoderIo, RawDetection } from './types.js';

/** YOLOX heads, finest first; anchors are ordered this way in the output. */
export const YOLOX_STRIDES: readonly number[] = [8, 16, 32];

/**
 * YOLOX output `[1, N, 5 + classes]`: box, objectness, class probabilities (already sigmoid).
 * Decoded in graph: the box is cx, cy, w, h in input pixels. Raw (the project's release files):
 * dx, dy, log w, log h per anchor of a stride-8/16/32 grid, decoded here as YOLOX's demo does.
 * One class per anchor (the best), score = objectness × class probability, then per-class NMS.
 */
export class YoloxDecoder implements Decoder {
  readonly type = 'yolox';
  private readonly stride: number;
  private readonly anchors: number;
  /** Raw mode: grid x, grid y and stride of every anchor. */
  private readonly grid: Float32Array | null;

  constructor(
    readonly decodedInGraph: boolean,
    private readonly io: DecoderIo,
  ) {
    const [, n, c] = io.outputShape;
    this.stride = 5 + io.numClasses;
    if (typeof c === 'number' && c !== this.stride) {
      throw new ModelError(
        `yolox output has ${c} values per anchor; ${io.numClasses} classes need ${this.stride}`,
        io.modelId,
      );
    }
    const expected = yoloxAnchorCount(io.inputWidth, io.inputHeight);
    if (typeof n === 'number' && n !== expected) {
      throw new ModelError(
        `yolox output has ${n} anchors; a ${io.inputWidth}x${io.inputHeight} input has ${expected} (strides 8/16/32)`,
        io.modelId,
      );
    }
    this.anchors = expected;
    this.grid = decodedInGraph ? null : yoloxGrid(io.inputWidth, io.inputHeight);
  }

  decode(output: Float32Array, o: DecodeOptions): RawDetection[] {
    const stride = this.stride;
    const classes = this.io.numClasses;
    const grid = this.grid;
    const mask = o.classMask;
    const threshold = o.scoreThreshold;
    const anchors = Math.min(this.anchors, Math.floor(output.length / stride));
    const candidates: RawDetection[] = [];
    for (let i = 0; i < anchors; i++) {
      const base = i * stride;
      const obj = output[base + 4] as number;
      // score = obj × p with p ≤ 1: an anchor below the threshold on objectness alone is out.
      if (obj < threshold) continue;
      const best = bestClass(output, base + 5, classes, mask);
      if (best < 0) continue;
      const score = obj * (output[base + 5 + best] as number);
      if (score < threshold) continue;
      let cx = output[base] as number;
      let cy = output[base + 1] as number;
      let w = output[base + 2] as number;
      let h = output[base + 3] as number;
      if (grid) {
        const s = grid[i * 3 + 2] as number;
        cx = (cx + (grid[i * 3] as number)) * s;
        cy = (cy + (grid[i * 3 + 1] as number)) * s;
        w = Math.exp(w) * s;
        h = Math.exp(h) * s;
      }
      candidates.push(fromCenter(best, score, cx, cy, w, h));
    }
    // NMS in network space (as YOLOX does), then back to image pixels.
    return toImagePixels(nmsPerClass(candidates, o.nmsIou, o.maxDetections), o);
  }
}

export function yoloxAnchorCount(inputWidth: number, inputHeight: number): number {
  let n = 0;
  for (const s of YOLOX_STRIDES) n += Math.floor(inputWidth / s) * Math.floor(inputHeight / s);
  return n;
}

/** Grid cell and stride of every anchor: strides 8, 16, 32, each grid row-major (y outer). */
export function yoloxGrid(inputWidth: number, inputHeight: number): Float32Array {
  const grid = new Float32Array(yoloxAnchorCount(inputWidth, inputHeight) * 3);
  let i = 0;
  for (const s of YOLOX_STRIDES) {
    const gw = Math.floor(inputWidth / s);
    const gh = Math.floor(inputHeight / s);
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        grid[i++] = x;
        grid[i++] = y;
        grid[i++] = s;
      }
    }
  }
  return grid;
}
