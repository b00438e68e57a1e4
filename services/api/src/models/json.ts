import { PixelOrder, type ModelSpec } from '@sie/contracts';
import type { Model, ModelDecoderJson } from '@sie/db';
import { z } from 'zod';
import { decoderSchema, type DecoderConfig, type ModelMetadata } from './metadata.js';

const LETTERBOX = ['top-left', 'center'] as const;
type Letterbox = (typeof LETTERBOX)[number];

export const modelJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  task: z.enum(['detect', 'classify']),
  decoder: decoderSchema,
  inputWidth: z.number().int(),
  inputHeight: z.number().int(),
  classNames: z.array(z.string()),
  pixelOrder: z.enum(['bgr', 'rgb']),
  pixelScale: z.number(),
  padValue: z.number(),
  letterbox: z.enum(LETTERBOX),
  /** sha256 of the ONNX file (it is stored under this name). */
  sha256: z.string(),
  sizeBytes: z.number().int(),
  createdAt: z.string(),
});

export type ModelJson = z.output<typeof modelJsonSchema>;

export const modelUploadedJsonSchema = modelJsonSchema.extend({
  /** Whether the inference service loaded it now (else the scheduler loads it before a run). */
  loaded: z.boolean(),
  loadError: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const modelListJsonSchema = z.object({ items: z.array(modelJsonSchema) });

/**
 * The `decoder` column: the decoder options, plus `letterbox` (the models table has no column of
 * its own for it; it travels with the other "how to read this network" settings).
 */
export function decoderColumn(m: ModelMetadata): ModelDecoderJson {
  return { ...m.decoder, letterbox: m.letterbox };
}

/** The stored decoder and letterbox; a row a newer writer extended falls back to defaults. */
export function readDecoderColumn(d: ModelDecoderJson): {
  decoder: DecoderConfig;
  letterbox: Letterbox;
} {
  const { letterbox, ...rest } = d;
  const parsed = decoderSchema.safeParse(rest);
  const type = rest.type === 'yolo' || rest.type === 'classify' ? rest.type : 'yolox';
  return {
    decoder: parsed.success ? parsed.data : decoderSchema.parse({ type }),
    letterbox: letterbox === 'center' ? 'center' : 'top-left',
  };
}

export function modelToJson(m: Model): ModelJson {
  const { decoder, letterbox } = readDecoderColumn(m.decoder);
  return {
    id: m.id,
    name: m.name,
    task: m.task === 'classify' ? 'classify' : 'detect',
    decoder,
    inputWidth: m.inputWidth,
    inputHeight: m.inputHeight,
    classNames: m.classNames,
    pixelOrder: m.pixelOrder,
    pixelScale: m.pixelScale,
    padValue: m.padValue,
    letterbox,
    sha256: m.contentHash,
    sizeBytes: m.sizeBytes,
    createdAt: m.createdAt.toISOString(),
  };
}

/**
 * The LoadModel spec of a registered model (its id and its stored file). proto3 has no "unset"
 * for scalars: 0 and '' mean "the service default", options of other decoders stay empty.
 */
export function modelSpecOf(m: Model): ModelSpec {
  const { decoder: d, letterbox } = readDecoderColumn(m.decoder);
  return {
    id: m.id,
    name: m.name,
    path: m.filePath,
    task: m.task,
    decoder: {
      type: d.type,
      decodedInGraph: d.type === 'yolox' && d.decodedInGraph,
      nmsIou: d.type === 'classify' ? 0 : (d.nmsIou ?? 0),
      scoreThreshold: d.scoreThreshold ?? 0,
      layout: d.type === 'yolo' ? d.layout : '',
      softmax: d.type === 'classify' ? d.softmax : undefined,
      topK: d.type === 'classify' ? d.topK : 0,
    },
    inputWidth: m.inputWidth,
    inputHeight: m.inputHeight,
    classNames: m.classNames,
    pixelOrder: m.pixelOrder === 'rgb' ? PixelOrder.PIXEL_ORDER_RGB : PixelOrder.PIXEL_ORDER_BGR,
    pixelScale: m.pixelScale,
    padValue: m.padValue,
    letterbox,
  };
}
