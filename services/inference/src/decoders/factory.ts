import type { DecoderConfig } from '../models/spec.js';
import { ClassifyDecoder } from './classify.js';
import type { Decoder, DecoderIo } from './types.js';
import { YoloDecoder } from './yolo.js';
import { YoloxDecoder } from './yolox.js';

/** The decoder a model's config names; throws ModelError when the network does not fit it. */
export function createDecoder(config: DecoderConfig, io: DecoderIo): Decoder {
  switch (config.type) {
    case 'yolox':
      return new YoloxDecoder(config.decodedInGraph, io);
    case 'yolo':
      return new YoloDecoder(config.layout, io);
    case 'classify':
      return new ClassifyDecoder(config.softmax, config.topK, io);
    default: {
      // A new decoder type in the schema must get a case here.
      const unknown: never = config;
      throw new TypeError(`no decoder for type ${String((unknown as DecoderConfig).type)}`);
    }
  }
}
