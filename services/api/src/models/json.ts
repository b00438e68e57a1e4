import type { Model } from '@sie/db';
import { LETTERBOX_PLACEMENTS, decoderSchema, readDecoderColumn } from '@sie/models';
import { z } from 'zod';

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
  letterbox: z.enum(LETTERBOX_PLACEMENTS),
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
