import { performance } from 'node:perf_hooks';
import { ModelError } from '@sie/errors';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { Decoder, RawDetection } from '../decoders/types.js';
import { checkModelIo, type ModelIo } from '../models/model-io.js';
import type { ModelConfig } from '../models/spec.js';
import { letterbox, type LetterboxPlan, type PixelImage } from '../preprocess/letterbox.js';
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

/**
 * One model inside one worker: its session, a reused input tensor (no per-frame allocation) and
 * the letterbox plan of the last frame size. Calls must not overlap; the worker serialises them.
 */
export class ModelRunner {
  private plan: LetterboxPlan | undefined;
  private readonly classMask: Uint8Array;

  private constructor(
    readonly config: ModelConfig,
    readonly io: ModelIo,
    readonly warning: string | null,
    private readonly session: InferenceSession,
    private readonly decoder: Decoder,
    private readonly input: Float32Array,
    private readonly inputTensor: Tensor,
  ) {
    this.classMask = new Uint8Array(config.classNames.length);
  }

  static async load(
    config: ModelConfig,
    options: Pick<OpenSessionOptions, 'executionProvider' | 'cpuFallback' | 'intraOpThreads'>,
  ): Promise<ModelRunner> {
    const opened = await openSession({ ...options, modelId: config.id, path: config.path });
    const { session } = opened;
    try {
      const checked = checkModelIo(config, session.inputMetadata, session.outputMetadata);
      const { decoder } = checked;
      const input = new Float32Array(3 * config.inputWidth * config.inputHeight);
      const tensor = new Tensor('float32', input, [1, 3, config.inputHeight, config.inputWidth]);
      const io: ModelIo = { ...checked.io, executionProvider: opened.executionProvider };
      const runner = new ModelRunner(config, io, opened.warning, session, decoder, input, tensor);
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

  async run(image: PixelImage, o: RunOptions): Promise<RunOutcome> {
    const t0 = performance.now();
    const c = this.config;
    this.plan = letterbox(
      image,
      {
        width: c.inputWidth,
        height: c.inputHeight,
        order: c.pixelOrder,
        pixelScale: c.pixelScale,
        padValue: c.padValue,
        placement: c.letterbox,
      },
      this.input,
      this.plan,
    );
    const t1 = performance.now();
    const results = await this.session.run({ [this.io.inputName]: this.inputTensor });
    const t2 = performance.now();
    const out = results[this.io.outputName];
    if (!out || !(out.data instanceof Float32Array)) {
      throw new ModelError(`model ${c.id} returned no float32 ${this.io.outputName}`, c.id);
    }
    const detections = this.decoder.decode(out.data, {
      ratio: this.plan.ratio,
      padX: this.plan.padX,
      padY: this.plan.padY,
      imageWidth: image.width,
      imageHeight: image.height,
      scoreThreshold: o.scoreThreshold,
      nmsIou: o.nmsIou,
      maxDetections: o.maxDetections,
      classMask: this.maskFor(o.classIds),
    });
    out.dispose();
    const t3 = performance.now();
    return {
      detections,
      preprocessMs: t1 - t0,
      inferenceMs: t2 - t1,
      postprocessMs: t3 - t2,
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
    this.plan = undefined;
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
