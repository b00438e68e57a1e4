export { SieError } from './sie-error.js';
export type { ErrorPayload } from './sie-error.js';
export {
  ConfigError,
  FrameOverwrittenError,
  FrameStoreError,
  FrameSupersededError,
  ImageDecodeError,
  InternalError,
  InvalidArgumentError,
  ModelError,
  ModelNotFoundError,
  NotFoundError,
  SourceInvalidError,
  SourceLostError,
  SourceUnreachableError,
  TimeoutError,
  UnavailableError,
} from './classes.js';
export type { ConfigIssue } from './classes.js';
export { RemoteError, asSieError, fromErrorPayload, toErrorPayload } from './wire.js';
