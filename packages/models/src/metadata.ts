import { z } from 'zod';

export const DECODER_TYPES = ['yolox', 'yolo', 'classify'] as const;
export type DecoderType = (typeof DECODER_TYPES)[number];

/** Where the resized image sits in the network input: top-left (YOLOX) or center (Ultralytics). */
export const LETTERBOX_PLACEMENTS = ['top-left', 'center'] as const;
export type Letterbox = (typeof LETTERBOX_PLACEMENTS)[number];

const nms = {
  /** IoU above which NMS drops the weaker of two boxes of one class. */
  nmsIou: z.number().gt(0).max(1).optional(),
  /** Default score threshold; a request or pipeline may override it. */
  scoreThreshold: z.number().min(0).max(1).optional(),
};

// The options match the inference service's decoders; each type refuses the others' options.
const yoloxDecoderSchema = z.strictObject({
  type: z.literal('yolox'),
  /** true: the graph outputs boxes in input pixels; false: raw grid offsets (release files). */
  decodedInGraph: z.boolean().default(true),
  ...nms,
});

const yoloDecoderSchema = z.strictObject({
  type: z.literal('yolo'),
  /** Ultralytics layout: v8 [N, 4+classes, boxes], v5 [N, boxes, 5+classes], auto by shape. */
  layout: z.enum(['auto', 'v8', 'v5']).default('auto'),
  ...nms,
});

const classifyDecoderSchema = z.strictObject({
  type: z.literal('classify'),
  /** true: the output is logits and gets a softmax; false: it already holds probabilities. */
  softmax: z.boolean().default(true),
  /** The best classes reported per image. */
  topK: z.number().int().min(1).max(1000).default(5),
  scoreThreshold: nms.scoreThreshold,
});

export const decoderSchema = z.discriminatedUnion('type', [
  yoloxDecoderSchema,
  yoloDecoderSchema,
  classifyDecoderSchema,
]);
export type DecoderConfig = z.output<typeof decoderSchema>;

export const TASK_OF_DECODER: Record<DecoderType, 'detect' | 'classify'> = {
  yolox: 'detect',
  yolo: 'detect',
  classify: 'classify',
};

/** The `metadata` field of a model upload: what the network expects and how to read its output. */
export const modelMetadataSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    /** detect or classify; follows the decoder when omitted, and must fit it when given. */
    task: z.enum(['detect', 'classify']).optional(),
    decoder: decoderSchema,
    inputWidth: z.number().int().min(16).max(8192),
    inputHeight: z.number().int().min(16).max(8192),
    classNames: z.array(z.string().min(1).max(200)).min(1).max(100_000),
    /** Channel order the network expects (YOLOX: bgr, Ultralytics: rgb). */
    pixelOrder: z.enum(['bgr', 'rgb']).default('bgr'),
    /** Multiplier on 0-255 pixel values (YOLOX: 1, Ultralytics: 1/255). */
    pixelScale: z.number().positive().max(1000).default(1),
    /** Letterbox padding in 0-255 units. */
    padValue: z.number().min(0).max(255).default(114),
    letterbox: z.enum(LETTERBOX_PLACEMENTS).default('top-left'),
  })
  .superRefine((m, ctx) => {
    const implied = TASK_OF_DECODER[m.decoder.type];
    if (m.task !== undefined && m.task !== implied) {
      ctx.addIssue({
        code: 'custom',
        path: ['task'],
        message: `task ${m.task} does not fit decoder ${m.decoder.type} (a ${implied} decoder)`,
      });
    }
  })
  .transform((m) => ({ ...m, task: TASK_OF_DECODER[m.decoder.type] }));

export type ModelMetadata = z.output<typeof modelMetadataSchema>;
