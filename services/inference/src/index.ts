// Public surface of the inference service, for the services and tests that embed or call it.
export {
  DEFAULT_GRPC_PORT,
  DEFAULT_OPS_PORT,
  inferenceConfigSchema,
  loadInferenceConfig,
} from './config.js';
export type { InferenceConfig } from './config.js';
export { createDecoder } from './decoders/factory.js';
export { iou, nmsPerClass } from './decoders/nms.js';
export type { DecodeOptions, Decoder, DecoderIo, RawDetection } from './decoders/types.js';
export { toGrpcError } from './grpc/errors.js';
export { MODEL_ID_PATTERN, modelConfigSchema } from './models/spec.js';
export type { DecoderConfig, DecoderType, ModelConfig } from './models/spec.js';
export { letterbox, letterboxRatio, planLetterbox } from './preprocess/letterbox.js';
export type {
  ChannelOrder,
  LetterboxPlacement,
  LetterboxPlan,
  LetterboxTarget,
  PixelImage,
} from './preprocess/letterbox.js';
export { INFERENCE_SERVICE_NAME, startInferenceServer } from './server.js';
export type { InferenceServer, InferenceServerConfig, InferenceServerDeps } from './server.js';
