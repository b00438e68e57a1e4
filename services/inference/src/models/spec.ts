import { PixelOrder, type ModelSpec } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import { z } from 'zod';
import { COCO_CLASS_NAMES } from './coco.js';

/** Model ids become metric labels, health service names and log fields: keep them tokens. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const yoloxDecoderSchema = z.strictObject({
  type: z.literal('yolox'),
  /** true: the graph outputs boxes in input pixels; false: grid offsets and log sizes (release files). */
  decodedInGraph: z.boolean().default(true),
});

/** Decoders keyed on `type`; `yolo` and `classify` join this union when they exist. */
export const decoderConfigSchema = z.discriminatedUnion('type', [yoloxDecoderSchema]);
export type DecoderConfig = z.output<typeof decoderConfigSchema>;

export const modelConfigSchema = z.strictObject({
  id: z.string().regex(MODEL_ID_PATTERN, 'letters, digits, _ . and - only (1-128 characters)'),
  name: z.string().default(''),
  /** ONNX file on this node; relative paths are resolved against the working directory. */
  path: z.string().min(1),
  task: z.literal('detect').default('detect'),
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
  /** Default score threshold; a request may override it. */
  scoreThreshold: z.number().min(0).max(1).default(0.3),
  nmsIou: z.number().gt(0).max(1).default(0.45),
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
    value.decoder = { type: spec.decoder.type, decodedInGraph: spec.decoder.decodedInGraph };
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
      decodedInGraph: config.decoder.decodedInGraph,
      nmsIou: config.nmsIou,
      scoreThreshold: config.scoreThreshold,
    },
    inputWidth: config.inputWidth,
    inputHeight: config.inputHeight,
    classNames: config.classNames,
    pixelOrder:
      config.pixelOrder === 'rgb' ? PixelOrder.PIXEL_ORDER_RGB : PixelOrder.PIXEL_ORDER_BGR,
    pixelScale: config.pixelScale,
    padValue: config.padValue,
  };
}
