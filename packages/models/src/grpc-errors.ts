import { status, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo, type FrameRef } from '@sie/contracts';
import {
  FrameOverwrittenError,
  InternalError,
  InvalidArgumentError,
  ModelNotFoundError,
  TimeoutError,
  UnavailableError,
  fromErrorPayload,
  type SieError,
} from '@sie/errors';

/**
 * Trailing metadata of every error the inference service returns: the stable error code (ASCII)
 * and the whole error as sie.v1.ErrorInfo. The service writes them (its `toGrpcError`) and every
 * client reads them here, so both sides share one definition.
 */
export const ERROR_CODE_KEY = 'sie-error-code';
export const ERROR_INFO_KEY = 'sie-error-bin';

/** What the client knew about a failed call, for an error its trailers do not carry. */
export interface GrpcCallInfo {
  /** The RPC, e.g. `Detect` (named in timeouts and messages). */
  operation: string;
  /** The deadline the call had. */
  timeoutMs: number;
  /** The model the call was about. */
  modelId?: string;
  /** The frame a Detect referenced (an ABORTED Detect lost it to a newer frame). */
  frame?: Pick<FrameRef, 'store' | 'seq'>;
}

/**
 * The SieError a failed call carries (rebuilt from the service's trailers: the whole error, else
 * its code), or the closest one its gRPC status allows when there are none (connection refused,
 * a proxy, an older server).
 */
export function sieErrorFromGrpc(err: ServiceError, call: GrpcCallInfo): SieError {
  const info = err.metadata?.get(ERROR_INFO_KEY)[0];
  if (Buffer.isBuffer(info)) {
    try {
      return fromErrorPayload(ErrorInfo.decode(info));
    } catch {
      // A corrupt payload: the code or the status below still say what went wrong.
    }
  }
  const message = err.details || err.message;
  const code = err.metadata?.get(ERROR_CODE_KEY)[0];
  if (typeof code === 'string' && code) {
    return fromErrorPayload({
      code,
      message,
      details: call.modelId ? { modelId: call.modelId } : {},
    });
  }
  switch (err.code) {
    case status.NOT_FOUND:
      // The inference service's only resource is a model.
      return new ModelNotFoundError(call.modelId ?? '', { cause: err });
    case status.INVALID_ARGUMENT:
      return new InvalidArgumentError(`${call.operation}: ${message}`, '', { cause: err });
    case status.ABORTED:
      if (call.frame) {
        return new FrameOverwrittenError(call.frame.store, call.frame.seq, 0, { cause: err });
      }
      return new InternalError(`${call.operation} aborted: ${message}`, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError(call.operation, call.timeoutMs, { cause: err });
    case status.UNAVAILABLE:
    case status.RESOURCE_EXHAUSTED:
    case status.CANCELLED:
      return new UnavailableError(`inference service unavailable: ${message}`, { cause: err });
    default:
      return new InternalError(`${call.operation} failed: ${message}`, { cause: err });
  }
}
