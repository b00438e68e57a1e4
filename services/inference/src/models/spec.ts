import { PixelOrder, type ModelSpec } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import { z } from 'zod';
import { COCO_CLASS_NAMES } from '@sie/models';

/** Model ids become metric labels, health service names and log fields: keep them tokens. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const yoloxDecoderSchema = z.strictObject({
  type: z.literal('yolox'),
  /** true: the graph outputs boxes in input pixels; false: grid offsets and log sizes (release files). */
  decodedInGraph: z.boolean().default(true),
});

const yoloDecoderSchema = z.strictObject({
  type: z.literal('yolo'),
  /**
   * Ultralytics output layout: `v8` is [1, 4 + classes, anchors] (YOLOv8/YOLO11, no objectness),
   * `v5` is [1, anchors, 5 + classes] (YOLOv5/v7, with objectness). `auto` tells them apart by the
   * output shape and the class count; name it when the shape cannot (symbolic dims).
   */
  layout: z.enum(['auto', 'v8', 'v5']).default('auto'),
});

const classifyDecoderSchema = z.strictObject({
  type: z.literal('classify'),
  /** true: the output is logits and gets a softmax; false: it already holds probabilities. */
  softmax: z.boolean().default(true),
  /** The best classes reported per image (each a detection whose box is the whole image). */
  topK: z.number().int().min(1).max(1000).default(5),
});

/** Decoders keyed on `type`; each rejects options of the others. */
export const decoderConfigSchema = z.discriminatedUnion('type', [
  yoloxDecoderSchema,
  yoloDecoderSchema,
  classifyDecoderSchema,
]);
export type DecoderConfig = z.output<typeof decoderConfigSchema>;
export type DecoderType = DecoderConfig['type'];

/** The task a decoder implies when the spec names none. */
const TASK_OF: Record<DecoderType, 'detect' | 'classify'> = {
  yolox: 'detect',
  yolo: 'detect',
  classify: 'classify',
};

/**
 * Dynamic batching of one model (Triton's dynamic batcher): requests of all runs wait until
 * `maxBatch` of them are queued or the oldest has waited `maxQueueDelayUs`, then run as one
 * [B,3,H,W] tensor. Only models whose input batch dim is dynamic batch; others run one by one.
 */
export const batchingConfigSchema = z.strictObject({
  /** Default: `DEFAULT_MAX_BATCH` of the execution provider (see there). */
  maxBatch: z.number().int().min(1).max(64).optional(),
  /** 0 dispatches whatever is queued as soon as a worker is free (batches form under load only). */
  maxQueueDelayUs: z.number().int().min(0).max(10_000_000).default(1000),
});
export type BatchingConfig = z.output<typeof batchingConfigSchema>;

/**
 * The largest batch when the config names none. On a GPU one [B,3,H,W] run costs far less than
 * B runs of one image, so 8 frames of several streams go together. On the CPU a batch of B costs
 * what B single runs cost (measured: 16.8 against 16.4 ms per frame at B = 8, docs/benchmarks.md),
 * so batching buys no throughput there and only makes the first frame of a batch wait for the
 * last: capture→detections p50/p99 at 70 % load went from 53/122 ms with B = 8 to 33/67 ms.
 */
export const DEFAULT_MAX_BATCH = { cpu: 1, cuda: 8 } as const;

/** The batch size a model runs at: its config's, else the execution provider's default. */
export function maxBatchOf(
  batching: BatchingConfig | undefined,
  executionProvider: keyof typeof DEFAULT_MAX_BATCH,
): number {
  if (!batching) return 1;
  return batching.maxBatch ?? DEFAULT_MAX_BATCH[executionProvider];
}

export const modelConfigSchema = z
  .strictObject({
    id: z.string().regex(MODEL_ID_PATTERN, 'letters, digits, _ . and - only (1-128 characters)'),
    name: z.string().default(''),
    /** ONNX file on this node; relative paths are resolved against the working directory. */
    path: z.string().min(1),
    /** `detect` or `classify`; follows the decoder when omitted, and must fit it when given. */
    task: z.enum(['detect', 'classify']).optional(),
    decoder: decoderConfigSchema.default({ type: 'yolox', decodedInGraph: true }),
    inputWidth: z.number().int().min(32).max(8192).default(416),
    inputHeight: z.number().int().min(32).max(8192).default(416),
    classNames: z
      .array(z.string().min(1))
      .min(1)
      .default(() => [...COCO_CLASS_NAMES]),
    /** Channel order the network expects (YOLOX: BGR). */
    pixelOrder: z.enum(['bgr', 'rgb']).default('bgr'),
    /** Multiplier on 0-255 pixel values (YOLOX: 1, Ultralytics: 1/255). */
    pixelScale: z.number().positive().default(1),
    /** Letterbox padding in 0-255 units. */
    padValue: z.number().min(0).max(255).default(114),
    /**
     * Where the resized image sits in the network input: `top-left` (YOLOX) or `center`
     * (Ultralytics' LetterBox: padding split evenly, the odd pixel right or below).
     */
    letterbox: z.enum(['top-left', 'center']).default('top-left'),
    /** Default score threshold; a request may override it. */
    scoreThreshold: z.number().min(0).max(1).default(0.3),
    nmsIou: z.number().gt(0).max(1).default(0.45),
    /** Overrides the service's `batching` for this model; absent: the service's. */
    batching: batchingConfigSchema.optional(),
  })
  .transform((c, ctx) => {
    const implied = TASK_OF[c.decoder.type];
    if (c.task !== undefined && c.task !== implied) {
      ctx.issues.push({
        code: 'custom',
        input: c.task,
        path: ['task'],
        message: `task ${c.task} does not fit decoder ${c.decoder.type} (a ${implied} decoder)`,
      });
      return z.NEVER;
    }
    return { ...c, task: implied };
  });

export type ModelConfig = z.output<typeof modelConfigSchema>;

/** Validates a model config from any source, naming the offending field of `spec`. */
export function parseModelConfig(value: unknown, field = 'spec'): ModelConfig {
  const result = modelConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [field, ...(issue?.path.map(String) ?? [])].join('.');
  throw new InvalidArgumentError(`${path}: ${issue?.message ?? 'invalid'}`, path);
}

/**
 * A LoadModel request's spec as a model config. proto3 cannot tell 0 or "" from "not set", so
 * zero values take the config defaults (a pad value of 0 therefore needs the config file).
 */
export function modelConfigFromProto(spec: ModelSpec | undefined): ModelConfig {
  if (!spec) throw new InvalidArgumentError('spec is required', 'spec');
  const value: Record<string, unknown> = { id: spec.id, path: spec.path };
  if (spec.name) value.name = spec.name;
  if (spec.task) value.task = spec.task;
  if (spec.decoder?.type) {
    const decoder: Record<string, unknown> = { type: spec.decoder.type };
    // decoded_in_graph means something to yolox only (false there: raw output); set on another
    // decoder, the strict schema refuses it rather than ignoring it.
    if (spec.decoder.type === 'yolox' || spec.decoder.decodedInGraph) {
      decoder.decodedInGraph = spec.decoder.decodedInGraph;
    }
    if (spec.decoder.layout) decoder.layout = spec.decoder.layout;
    if (spec.decoder.softmax !== undefined) decoder.softmax = spec.decoder.softmax;
    if (spec.decoder.topK) decoder.topK = spec.decoder.topK;
    value.decoder = decoder;
  }
  if (spec.decoder?.scoreThreshold) value.scoreThreshold = spec.decoder.scoreThreshold;
  if (spec.decoder?.nmsIou) value.nmsIou = spec.decoder.nmsIou;
  if (spec.inputWidth) value.inputWidth = spec.inputWidth;
  if (spec.inputHeight) value.inputHeight = spec.inputHeight;
  if (spec.classNames.length > 0) value.classNames = spec.classNames;
  if (spec.pixelOrder === PixelOrder.PIXEL_ORDER_RGB) value.pixelOrder = 'rgb';
  if (spec.pixelOrder === PixelOrder.PIXEL_ORDER_BGR) value.pixelOrder = 'bgr';
  if (spec.pixelScale) value.pixelScale = spec.pixelScale;
  if (spec.padValue) value.padValue = spec.padValue;
  if (spec.letterbox) value.letterbox = spec.letterbox;
  return parseModelConfig(value);
}

export function modelConfigToProto(config: ModelConfig): ModelSpec {
  return {
    id: config.id,
    name: config.name,
    path: config.path,
    task: config.task,
    decoder: {
      type: config.decoder.type,
      decodedInGraph: config.decoder.type === 'yolox' && config.decoder.decodedInGraph,
      nmsIou: config.nmsIou,
      scoreThreshold: config.scoreThreshold,
      layout: config.decoder.type === 'yolo' ? config.decoder.layout : '',
      softmax: config.decoder.type === 'classify' ? config.decoder.softmax : undefined,
      topK: config.decoder.type === 'classify' ? config.decoder.topK : 0,
    },
    inputWidth: config.inputWidth,
    inputHeight: config.inputHeight,
    classNames: config.classNames,
    pixelOrder:
      config.pixelOrder === 'rgb' ? PixelOrder.PIXEL_ORDER_RGB : PixelOrder.PIXEL_ORDER_BGR,
    pixelScale: config.pixelScale,
    padValue: config.padValue,
    letterbox: config.letterbox,
  };
}
