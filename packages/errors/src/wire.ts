import {
  ConfigError,
  FrameOverwrittenError,
  FrameSupersededError,
  FrameStoreError,
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
import { SieError, type ErrorPayload } from './sie-error.js';

/** An error received from another process whose code this build does not know. */
export class RemoteError extends SieError {
  constructor(
    readonly code: string,
    message: string,
    readonly remoteDetails: Record<string, string>,
  ) {
    super(message);
  }
  override details(): Record<string, string> {
    return this.remoteDetails;
  }
}

type Rebuild = (p: ErrorPayload) => SieError;
const d = (p: ErrorPayload, key: string): string => p.details[key] ?? '';

const rebuilders: Record<string, Rebuild> = {
  config_invalid: (p) =>
    new ConfigError(
      d(p, 'paths')
        .split(',')
        .filter(Boolean)
        .map((path) => ({ path, message: p.message })),
      d(p, 'source'),
    ),
  invalid_argument: (p) => new InvalidArgumentError(p.message, d(p, 'field')),
  source_unreachable: (p) => new SourceUnreachableError(p.message, d(p, 'url')),
  source_lost: (p) => new SourceLostError(p.message, d(p, 'url')),
  source_invalid: (p) => new SourceInvalidError(p.message, d(p, 'url')),
  model_error: (p) => new ModelError(p.message, d(p, 'modelId')),
  model_not_found: (p) => new ModelNotFoundError(d(p, 'modelId')),
  image_invalid: (p) => new ImageDecodeError(p.message),
  frame_overwritten: (p) =>
    new FrameOverwrittenError(d(p, 'store'), Number(d(p, 'wantedSeq')), Number(d(p, 'foundSeq'))),
  frame_superseded: (p) =>
    new FrameSupersededError(d(p, 'store'), Number(d(p, 'seq')), Number(d(p, 'newerSeq'))),
  frame_store_error: (p) => new FrameStoreError(p.message, d(p, 'store')),
  not_found: (p) => new NotFoundError(d(p, 'resource'), d(p, 'id')),
  timeout: (p) => new TimeoutError(d(p, 'operation'), Number(d(p, 'timeoutMs'))),
  unavailable: (p) => new UnavailableError(p.message),
  internal_error: (p) => new InternalError(p.message),
};

/** Turns any thrown value into its wire form; unknown errors become `internal_error`. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof SieError) return err.toPayload();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal_error', message, details: {} };
}

/** Rebuilds the error class named by a payload's code (keeping the sender's message). */
export function fromErrorPayload(p: ErrorPayload): SieError {
  const rebuild = rebuilders[p.code];
  if (!rebuild) return new RemoteError(p.code, p.message, p.details);
  const err = rebuild(p);
  if (err.message !== p.message) {
    // The sender's message is the informative one; keep it.
    Object.defineProperty(err, 'message', { value: p.message });
  }
  return err;
}

/** Wraps an unknown thrown value as a SieError, keeping the original as `cause`. */
export function asSieError(err: unknown): SieError {
  if (err instanceof SieError) return err;
  return new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
}
