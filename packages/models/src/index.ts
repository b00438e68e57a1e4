export { COCO_CLASS_NAMES } from './coco.js';
export { decoderColumn, readDecoderColumn } from './decoder-column.js';
export { ERROR_CODE_KEY, ERROR_INFO_KEY, sieErrorFromGrpc } from './grpc-errors.js';
export type { GrpcCallInfo } from './grpc-errors.js';
export { InferenceGateway } from './inference-gateway.js';
export type { InferenceApi, InferenceGatewayOptions, ModelLoader } from './inference-gateway.js';
export {
  DECODER_TYPES,
  LETTERBOX_PLACEMENTS,
  TASK_OF_DECODER,
  decoderSchema,
  modelMetadataSchema,
} from './metadata.js';
export type { DecoderConfig, DecoderType, Letterbox, ModelMetadata } from './metadata.js';
export { modelSpecOf } from './model-spec.js';
export type { ModelRow } from './model-spec.js';
