import { Metadata, status, type ServerErrorResponse, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo } from '@sie/contracts';
import type { SieError } from '@sie/errors';
import {
  InternalError,
  TimeoutError,
  UnavailableError,
  asSieError,
  fromErrorPayload,
} from '@sie/errors';

/** Trailing metadata: the stable error code (ASCII) and the whole error as sie.v1.ErrorInfo. */
export const ERROR_CODE_KEY = 'sie-error-code';
export const ERROR_INFO_KEY = 'sie-error-bin';

const STATUS_BY_CODE: Record<string, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  image_invalid: status.INVALID_ARGUMENT,
  config_invalid: status.INVALID_ARGUMENT,
  model_not_found: status.NOT_FOUND,
  not_found: status.NOT_FOUND,
  // The model exists but cannot serve: retrying the same request will not help.
  model_error: status.FAILED_PRECONDITION,
  // The frame is gone (seqlock conflict): the caller drops it and moves on.
  frame_overwritten: status.ABORTED,
  frame_store_error: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  timeout: status.DEADLINE_EXCEEDED,
  internal_error: status.INTERNAL,
};

export function grpcStatusFor(err: SieError): status {
  return STATUS_BY_CODE[err.code] ?? status.INTERNAL;
}

/** Any thrown value as a gRPC error whose trailers let the client rebuild the SieError. */
export function toGrpcError(err: unknown): ServerErrorResponse {
  const e = asSieError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  metadata.set(ERROR_INFO_KEY, Buffer.from(ErrorInfo.encode(e.toPayload()).finish()));
  return Object.assign(new Error(e.message), {
    code: grpcStatusFor(e),
    details: e.message,
    metadata,
  });
}

/** The client side: the SieError a failed call carries, or one matching its gRPC status. */
export function sieErrorFromGrpc(err: ServiceError): SieError {
  const info = err.metadata?.get(ERROR_INFO_KEY)[0];
  if (Buffer.isBuffer(info)) {
    try {
      return fromErrorPayload(ErrorInfo.decode(info));
    } catch {
      // Fall through to the status code.
    }
  }
  switch (err.code) {
    case status.UNAVAILABLE:
      return new UnavailableError(err.details || err.message, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError('inference call', 0, { cause: err });
    default:
      return new InternalError(err.details || err.message, { cause: err });
  }
}
