import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import { ErrorInfo } from '@sie/contracts';
import type { SieError } from '@sie/errors';
import { asSieError } from '@sie/errors';
import { ERROR_CODE_KEY, ERROR_INFO_KEY } from '@sie/models';

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
  // A newer frame of the same stream replaced it in the queue: dropped, like an overwrite.
  frame_superseded: status.ABORTED,
  frame_store_error: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  timeout: status.DEADLINE_EXCEEDED,
  internal_error: status.INTERNAL,
};

export function grpcStatusFor(err: SieError): status {
  return STATUS_BY_CODE[err.code] ?? status.INTERNAL;
}

/**
 * Any thrown value as a gRPC error whose trailers (`@sie/models`' keys, read back by its
 * `sieErrorFromGrpc`) let the client rebuild the SieError.
 */
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
