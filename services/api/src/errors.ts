import { SieError, SourceInvalidError, type ConfigIssue } from '@sie/errors';

/** One bad field of a request: its dotted path (`config.retry.startupAttempts`) and why. */
export type FieldIssue = ConfigIssue;

/** A request body, query or header failed validation; `issues` names every bad field. */
export class RequestInvalidError extends SieError {
  readonly code = 'invalid_argument';
  constructor(
    readonly issues: FieldIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      `invalid request: ${issues.map((i) => `${i.path || '<root>'}: ${i.message}`).join('; ')}`,
      options,
    );
  }
  override details(): Record<string, string> {
    return { paths: this.issues.map((i) => i.path).join(',') };
  }
}

/** The body claims to be JSON but does not parse (or is empty). */
export class InvalidJsonError extends SieError {
  readonly code = 'invalid_json';
}

/** The body (or an uploaded file) is larger than this route accepts. */
export class PayloadTooLargeError extends SieError {
  readonly code = 'payload_too_large';
  constructor(
    message: string,
    readonly limitBytes?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return this.limitBytes === undefined ? {} : { limitBytes: String(this.limitBytes) };
  }
}

export class UnsupportedMediaTypeError extends SieError {
  readonly code = 'unsupported_media_type';
}

/** The request clashes with the current state (a duplicate, a model in use, a finished run). */
export class ConflictError extends SieError {
  readonly code = 'conflict';
  constructor(
    message: string,
    readonly conflictDetails: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return this.conflictDetails;
  }
}

/** A body field names something that does not exist in the tenant (a pipeline, a model). */
export class ReferenceNotFoundError extends SieError {
  readonly code = 'not_found';
  readonly issues: FieldIssue[];
  constructor(
    readonly resource: string,
    readonly id: string,
    readonly field: string,
  ) {
    super(`${resource} ${JSON.stringify(id)} not found`);
    this.issues = [{ path: field, message: this.message }];
  }
  override details(): Record<string, string> {
    return { resource: this.resource, id: this.id, field: this.field };
  }
}

/**
 * A source URL refused in a request body: still `source_invalid`, plus the field it came from in
 * `issues`, so a form can show the message next to that field.
 */
export class SourceFieldInvalidError extends SourceInvalidError {
  readonly issues: FieldIssue[];
  constructor(field: string, err: SourceInvalidError) {
    super(err.message, err.url, { cause: err });
    this.issues = [{ path: field, message: err.message }];
  }
}

/**
 * The run's pipeline takes event snapshots but this one is not on disk: the render service writes
 * it a moment after the event (or retention removed it already). Try again shortly.
 */
export class SnapshotNotReadyError extends SieError {
  readonly code = 'snapshot_not_ready';
  constructor(readonly eventId: string) {
    super(`the snapshot of event ${JSON.stringify(eventId)} is not available (yet)`);
  }
  override details(): Record<string, string> {
    return { eventId: this.eventId };
  }
}

/** The server has no room left to store what the request sends (a model file on a full disk). */
export class StorageFullError extends SieError {
  readonly code = 'storage_full';
}
