import type { DecoderConfig } from '../models/spec.js';
import type { Decoder, DecoderIo } from './types.js';
import { YoloxDecoder } from './yolox.js';

/** The decoder a model's config names; throws ModelError when the network does not fit it. */
export function createDecoder(config: DecoderConfig, io: DecoderIo): Decoder {
  switch (config.type) {
    case 'yolox':
      return new YoloxDecoder(config.decodedInGraph, io);
    default: {
      // A new decoder type in the schema must get a case here.
      const unknown: never = config.type;
      throw new TypeError(`no decoder for type ${String(unknown)}`);
    }
  }
}
