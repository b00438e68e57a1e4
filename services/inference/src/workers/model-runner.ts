import { performance } from 'node:perf_hooks';
import { ModelError } from '@sie/errors';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { Decoder, RawDetection } from '../decoders/types.js';
import { checkModelIo, type ModelIo } from '../models/model-io.js';
import type { ModelConfig } from '../models/spec.js';
import {
  hwcToChw,
  letterbox,
  planLetterbox,
  type LetterboxPlan,
  type PixelImage,
} from '../preprocess/letterbox.js';
import { openSession, type OpenSessionOptions } from './session.js';

export interface RunOptions {
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
  classIds: number[] | null;
}

export interface RunOutcome {
  detections: RawDetection[];
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

/** What `prepare` left in a batch slot: what decoding that slot's output needs. */
export interface Prepared {
  plan: LetterboxPlan;
  imageWidth: number;
  imageHeight: number;
  preprocessMs: number;
}

/** Letterbox plans kept per worker and model (one per source frame size seen lately). */
const MAX_PLANS = 16;

/**
 * One model inside one worker: its session and one input buffer of `maxBatch` images, allocated
 * at load (with a tensor per batch size over its first B images, made once): frames are
 * letterboxed straight into their batch slot, nothing is allocated per frame. Calls must not
 * overlap; the worker serialises them.
 */
export class ModelRunner {
  private readonly plans = new Map<string, LetterboxPlan>();
  private readonly classMask: Uint8Array;
  private readonly slots: Float32Array[] = [];
  private readonly tensors = new Map<number, Tensor>();
  private readonly imageSize: number;

  private constructor(
    readonly config: ModelConfig,
    readonly io: ModelIo,
    readonly warning: string | null,
    /** The largest batch one run takes: 1 unless the input's batch dim is dynamic. */
    readonly maxBatch: number,
    private readonly session: InferenceSession,
    private readonly decoder: Decoder,
    private readonly input: Float32Array,
  ) {
    this.classMask = new Uint8Array(config.classNames.length);
    this.imageSize = 3 * config.inputWidth * config.inputHeight;
    for (let i = 0; i < maxBatch; i++) {
      this.slots.push(input.subarray(i * this.imageSize, (i + 1) * this.imageSize));
    }
  }

  static async load(
    config: ModelConfig,
    options: Pick<OpenSessionOptions, 'executionProvider' | 'cpuFallback' | 'intraOpThreads'>,
    maxBatch = 1,
  ): Promise<ModelRunner> {
    const opened = await openSession({ ...options, modelId: config.id, path: config.path });
    const { session } = opened;
    try {
      const checked = checkModelIo(config, session.inputMetadata, session.outputMetadata);
      const { decoder } = checked;
      const io: ModelIo = { ...checked.io, executionProvider: opened.executionProvider };
      // A batch needs a dynamic batch dim on the input and the output.
      const dynamic = io.inputShape[0] === -1 && io.outputShape[0] === -1;
      const batch = dynamic ? Math.max(1, maxBatch) : 1;
      const input = new Float32Array(batch * 3 * config.inputWidth * config.inputHeight);
      const runner = new ModelRunner(config, io, opened.warning, batch, session, decoder, input);
      try {
        await runner.warmUp();
      } catch (cause) {
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new ModelError(`model ${config.id} fails its first run: ${why}`, config.id, {
          cause,
        });
      }
      return runner;
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  /** Letterboxes `image` into batch slot `slot` (0-based, below maxBatch). */
  prepare(slot: number, image: PixelImage): Prepared {
    const t0 = performance.now();
    const c = this.config;
    const out = this.slots[slot];
    if (!out) throw new RangeError(`batch slot ${slot} is beyond ${this.maxBatch}`);
    const key = `${image.width}x${image.height}`;
    const known = this.plans.get(key);
    const target = {
      width: c.inputWidth,
      height: c.inputHeight,
      order: c.pixelOrder,
      pixelScale: c.pixelScale,
      padValue: c.padValue,
      placement: c.letterbox,
    };
    let plan: LetterboxPlan;
    if (known && image.width === c.inputWidth && image.height === c.inputHeight) {
      // Already the network's size (letterboxed upstream, or a camera at that size): the
      // letterbox is the identity, only the layout changes.
      hwcToChw(image, target, out);
      plan = known;
    } else {
      plan = letterbox(image, target, out, known);
    }
    if (plan !== known) {
      if (this.plans.size >= MAX_PLANS) this.plans.clear();
      this.plans.set(key, plan);
    }
    return {
      plan,
      imageWidth: image.width,
      imageHeight: image.height,
      preprocessMs: performance.now() - t0,
    };
  }

  /**
   * Whether a copy of a frame letterboxed upstream (ffmpeg's filter graph) is exactly what this
   * model takes: its size, placement and padding.
   */
  takesModelFrame(f: { width: number; height: number; placement: string; padValue: number }) {
    const c = this.config;
    return (
      f.width === c.inputWidth &&
      f.height === c.inputHeight &&
      f.placement === c.letterbox &&
      f.padValue === Math.round(c.padValue)
    );
  }

  /**
   * Puts a frame's model-size copy (letterboxed upstream, see `takesModelFrame`) into batch slot
   * `slot`: only the layout changes. Boxes map back to the `frameWidth` × `frameHeight` frame
   * with the plan the letterbox would have used.
   */
  prepareLetterboxed(
    slot: number,
    copy: PixelImage,
    frameWidth: number,
    frameHeight: number,
  ): Prepared {
    const t0 = performance.now();
    const c = this.config;
    const out = this.slots[slot];
    if (!out) throw new RangeError(`batch slot ${slot} is beyond ${this.maxBatch}`);
    const key = `${frameWidth}x${frameHeight}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planLetterbox(frameWidth, frameHeight, c.inputWidth, c.inputHeight, c.letterbox);
      if (this.plans.size >= MAX_PLANS) this.plans.clear();
      this.plans.set(key, plan);
    }
    hwcToChw(
      copy,
      {
        width: c.inputWidth,
        height: c.inputHeight,
        order: c.pixelOrder,
        pixelScale: c.pixelScale,
        padValue: c.padValue,
      },
      out,
    );
    return {
      plan,
      imageWidth: frameWidth,
      imageHeight: frameHeight,
      preprocessMs: performance.now() - t0,
    };
  }

  /**
   * One session.run over the first `count` slots; returns the output (dispose it after decoding)
   * and the time the run took.
   */
  async infer(count: number): Promise<{ output: Tensor; inferenceMs: number }> {
    const t0 = performance.now();
    let tensor = this.tensors.get(count);
    if (!tensor) {
      const c = this.config;
      tensor = new Tensor('float32', this.input.subarray(0, count * this.imageSize), [
        count,
        3,
        c.inputHeight,
        c.inputWidth,
      ]);
      this.tensors.set(count, tensor);
    }
    const results = await this.session.run({ [this.io.inputName]: tensor });
    const output = results[this.io.outputName];
    if (!output || !(output.data instanceof Float32Array)) {
      throw new ModelError(
        `model ${this.config.id} returned no float32 ${this.io.outputName}`,
        this.config.id,
      );
    }
    return { output, inferenceMs: performance.now() - t0 };
  }

  /** Detections of batch slot `slot` of an output of `count` images. */
  decode(output: Tensor, slot: number, count: number, p: Prepared, o: RunOptions): RawDetection[] {
    const data = output.data as Float32Array;
    const per = data.length / count;
    return this.decoder.decode(data.subarray(slot * per, (slot + 1) * per), {
      ratio: p.plan.ratio,
      padX: p.plan.padX,
      padY: p.plan.padY,
      imageWidth: p.imageWidth,
      imageHeight: p.imageHeight,
      scoreThreshold: o.scoreThreshold,
      nmsIou: o.nmsIou,
      maxDetections: o.maxDetections,
      classMask: this.maskFor(o.classIds),
    });
  }

  /** One image alone (batch of 1). */
  async run(image: PixelImage, o: RunOptions): Promise<RunOutcome> {
    const prepared = this.prepare(0, image);
    const { output, inferenceMs } = await this.infer(1);
    const t0 = performance.now();
    const detections = this.decode(output, 0, 1, prepared, o);
    output.dispose();
    return {
      detections,
      preprocessMs: prepared.preprocessMs,
      inferenceMs,
      postprocessMs: performance.now() - t0,
    };
  }

  /**
   * One run on a blank image at load time: the first run of a session allocates its buffers and
   * the first letterbox compiles, which would otherwise land on the first real frame. It also
   * proves the network runs on these inputs before it is declared ready.
   */
  private async warmUp(): Promise<void> {
    const w = this.config.inputWidth;
    const h = Math.max(1, this.config.inputHeight >> 1);
    const image = { data: new Uint8Array(w * h * 3), width: w, height: h, order: 'bgr' as const };
    await this.run(image, { scoreThreshold: 1, nmsIou: 0.5, maxDetections: 1, classIds: null });
    if (this.maxBatch > 1) {
      // The first run of each shape sizes ONNX Runtime's buffers; do the largest one now.
      for (let i = 0; i < this.maxBatch; i++) this.prepare(i, image);
      const { output } = await this.infer(this.maxBatch);
      output.dispose();
    }
    this.plans.clear();
  }

  private maskFor(classIds: number[] | null): Uint8Array | null {
    if (!classIds) return null;
    this.classMask.fill(0);
    for (const id of classIds) if (id >= 0 && id < this.classMask.length) this.classMask[id] = 1;
    return this.classMask;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
