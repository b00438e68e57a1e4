import { SieError } from './sie-error.js';

export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `grpc.port`; empty for the root. */
  path: string;
  message: string;
}

/** A configuration (file, environment or request body) failed validation. */
export class ConfigError extends SieError {
  readonly code = 'config_invalid';
  constructor(
    readonly issues: ConfigIssue[],
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(
      `invalid configuration (${source}): ${issues.map((i) => `${i.path || '<root>'}: ${i.message}`).join('; ')}`,
      options,
    );
  }
  override details(): Record<string, string> {
    return { source: this.source, paths: this.issues.map((i) => i.path).join(',') };
  }
}

/** A caller passed an argument that cannot be used. */
export class InvalidArgumentError extends SieError {
  readonly code = 'invalid_argument';
  constructor(
    message: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { field: this.field };
  }
}

/** A source could not be opened (never delivered a frame). */
export class SourceUnreachableError extends SieError {
  readonly code = 'source_unreachable';
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { url: this.url };
  }
}

/** A source that was delivering frames stopped and did not come back within the retry policy. */
export class SourceLostError extends SieError {
  readonly code = 'source_lost';
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { url: this.url };
  }
}

/** A source exists but is not something sie can use (not a video, forbidden scheme, …). */
export class SourceInvalidError extends SieError {
  readonly code = 'source_invalid';
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { url: this.url };
  }
}

/** A model file could not be loaded or does not match its metadata. */
export class ModelError extends SieError {
  readonly code = 'model_error';
  constructor(
    message: string,
    readonly modelId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { modelId: this.modelId };
  }
}

export class ModelNotFoundError extends SieError {
  readonly code = 'model_not_found';
  constructor(
    readonly modelId: string,
    options?: { cause?: unknown },
  ) {
    super(`model ${JSON.stringify(modelId)} is not loaded`, options);
  }
  override details(): Record<string, string> {
    return { modelId: this.modelId };
  }
}

/** An image given for inference could not be decoded. */
export class ImageDecodeError extends SieError {
  readonly code = 'image_invalid';
}

/** The referenced frame's slot now holds a newer frame: the reader came too late. */
export class FrameOverwrittenError extends SieError {
  readonly code = 'frame_overwritten';
  constructor(
    readonly store: string,
    readonly wantedSeq: number,
    readonly foundSeq: number,
    options?: { cause?: unknown },
  ) {
    super(
      `frame ${wantedSeq} of ${store} was overwritten (slot now holds frame ${foundSeq})`,
      options,
    );
  }
  override details(): Record<string, string> {
    return {
      store: this.store,
      wantedSeq: String(this.wantedSeq),
      foundSeq: String(this.foundSeq),
    };
  }
}

/**
 * A queued request for a frame was dropped because a newer frame of the same stream arrived
 * before it ran (latest frame wins: a live stream never accumulates latency in a queue).
 */
export class FrameSupersededError extends SieError {
  readonly code = 'frame_superseded';
  constructor(
    readonly store: string,
    readonly seq: number,
    readonly newerSeq: number,
    options?: { cause?: unknown },
  ) {
    super(`frame ${seq} of ${store} was superseded by frame ${newerSeq} before it ran`, options);
  }
  override details(): Record<string, string> {
    return { store: this.store, seq: String(this.seq), newerSeq: String(this.newerSeq) };
  }
}

/** The frame store named by a reference does not exist or does not match the reference. */
export class FrameStoreError extends SieError {
  readonly code = 'frame_store_error';
  constructor(
    message: string,
    readonly store: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { store: this.store };
  }
}

export class NotFoundError extends SieError {
  readonly code = 'not_found';
  constructor(
    readonly resource: string,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`${resource} ${JSON.stringify(id)} not found`, options);
  }
  override details(): Record<string, string> {
    return { resource: this.resource, id: this.id };
  }
}

export class TimeoutError extends SieError {
  readonly code = 'timeout';
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`${operation} timed out after ${timeoutMs} ms`, options);
  }
  override details(): Record<string, string> {
    return { operation: this.operation, timeoutMs: String(this.timeoutMs) };
  }
}

/** The service is overloaded or shutting down and refused the work. */
export class UnavailableError extends SieError {
  readonly code = 'unavailable';
}

/** A bug or an unexpected failure of a dependency. */
export class InternalError extends SieError {
  readonly code = 'internal_error';
}
