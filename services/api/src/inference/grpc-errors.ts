import { status, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo } from '@sie/contracts';
import {
  InternalError,
  TimeoutError,
  UnavailableError,
  fromErrorPayload,
  type SieError,
} from '@sie/errors';

// Trailing metadata the inference service sets on every error (see services/inference).
const ERROR_INFO_KEY = 'sie-error-bin';

/**
 * The SieError a failed call carries (rebuilt from the service's trailers), or the closest one its
 * gRPC status allows when there are none (connection refused, a proxy, an older server).
 */
export function sieErrorFromGrpc(
  err: ServiceError,
  operation: string,
  timeoutMs: number,
): SieError {
  const info = err.metadata?.get(ERROR_INFO_KEY)[0];
  if (Buffer.isBuffer(info)) {
    try {
      return fromErrorPayload(ErrorInfo.decode(info));
    } catch {
      // Fall through to the status code.
    }
  }
  const message = err.details || err.message;
  switch (err.code) {
    case status.UNAVAILABLE:
      return new UnavailableError(`inference service unavailable: ${message}`, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError(operation, timeoutMs, { cause: err });
    default:
      return new InternalError(`${operation} failed: ${message}`, { cause: err });
  }
}
