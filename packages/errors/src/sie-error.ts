/** The wire form of an error: what crosses a process boundary (matches sie.v1.ErrorInfo). */
export interface ErrorPayload {
  code: string;
  message: string;
  details: Record<string, string>;
}

/**
 * Base class of every error sie raises on purpose. `code` is stable: callers, the API's JSON
 * bodies, gRPC metadata and NATS payloads carry it, and the run state machine stores it as the
 * failure reason. Subclasses add typed fields; `details` exposes them as strings for the wire.
 */
export abstract class SieError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Typed fields of the error as strings, for logs and the wire. */
  details(): Record<string, string> {
    return {};
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message, details: this.details() };
  }
}
