import type { ModelDecoderJson } from '@sie/db';
import {
  decoderSchema,
  type DecoderConfig,
  type Letterbox,
  type ModelMetadata,
} from './metadata.js';

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
