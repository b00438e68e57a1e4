import { Metadata, connectivityState, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo, InferenceClient, type DetectResponse, type FrameRef } from '@sie/contracts';
import {
  FrameOverwrittenError,
  InternalError,
  ModelNotFoundError,
  TimeoutError,
  UnavailableError,
  fromErrorPayload,
  type SieError,
} from '@sie/errors';
import { injectTraceContext, type Context } from '@sie/telemetry';

export interface DetectCall {
  modelId: string;
  frame: FrameRef;
  scoreThreshold: number;
  classes: string[];
}

/**
 * What a run needs from inference. The gRPC client is one implementation; tests or an in-process
 * model can provide another without touching the run logic.
 */
export interface Detector {
  /** Detections of one frame; rejects with a SieError (`frame_overwritten`, `model_not_found` …). */
  detect(call: DetectCall, ctx: Context): Promise<DetectResponse>;
  /** 'ok' when calls can go through now, else why not (for /healthz). */
  health(): string;
  close(): void;
}

// Trailing metadata the inference service sets on every error (services/inference/src/grpc/errors.ts).
const ERROR_CODE_KEY = 'sie-error-code';
const ERROR_INFO_KEY = 'sie-error-bin';

export interface GrpcDetectorOptions {
  /** host:port */
  url: string;
  timeoutMs: number;
}

/** Detect over gRPC, with the frame's trace context in the call metadata. */
export class GrpcDetector implements Detector {
  private readonly client: InferenceClient;

  constructor(private readonly options: GrpcDetectorOptions) {
    this.client = new InferenceClient(options.url, credentials.createInsecure(), {
      // Fail fast while inference is down instead of queueing calls that would arrive stale.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
      'grpc.keepalive_time_ms': 30_000,
    });
  }

  detect(call: DetectCall, ctx: Context): Promise<DetectResponse> {
    const metadata = new Metadata();
    const carrier: Record<string, string> = {};
    injectTraceContext(carrier, ctx);
    for (const [key, value] of Object.entries(carrier)) metadata.set(key, value);
    const request = {
      modelId: call.modelId,
      input: { $case: 'frame' as const, frame: call.frame },
      scoreThreshold: call.scoreThreshold,
      classes: call.classes,
      maxDetections: 0,
      requestId: '',
    };
    return new Promise((resolve, reject) => {
      this.client.detect(
        request,
        metadata,
        { deadline: Date.now() + this.options.timeoutMs },
        (err, response) => {
          if (err) reject(detectErrorFromGrpc(err, call, this.options.timeoutMs));
          else resolve(response);
        },
      );
    });
  }

  health(): string {
    // `true` starts connecting an idle channel, so the next check can say 'ok'.
    const state = this.client.getChannel().getConnectivityState(true);
    switch (state) {
      case connectivityState.READY:
        return 'ok';
      case connectivityState.IDLE:
      case connectivityState.CONNECTING:
        return 'connecting';
      case connectivityState.TRANSIENT_FAILURE:
        return `unavailable (${this.options.url})`;
      default:
        return 'closed';
    }
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The SieError a failed Detect carries (rebuilt from the service's trailers), or the closest one
 * its gRPC status allows when the trailers are missing (a proxy, an older server).
 */
export function detectErrorFromGrpc(
  err: ServiceError,
  call: Pick<DetectCall, 'modelId' | 'frame'>,
  timeoutMs: number,
): SieError {
  const info = err.metadata?.get(ERROR_INFO_KEY)[0];
  if (Buffer.isBuffer(info)) {
    try {
      return fromErrorPayload(ErrorInfo.decode(info));
    } catch {
      // Fall back to the code or the status below.
    }
  }
  const message = err.details || err.message;
  const code = err.metadata?.get(ERROR_CODE_KEY)[0];
  if (typeof code === 'string' && code) {
    return fromErrorPayload({ code, message, details: { modelId: call.modelId } });
  }
  switch (err.code) {
    case status.NOT_FOUND:
      if (/model/i.test(message)) return new ModelNotFoundError(call.modelId, { cause: err });
      return new InternalError(message, { cause: err });
    case status.ABORTED:
      return new FrameOverwrittenError(call.frame.store, call.frame.seq, 0, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError('Detect', timeoutMs, { cause: err });
    case status.UNAVAILABLE:
    case status.RESOURCE_EXHAUSTED:
    case status.CANCELLED:
      return new UnavailableError(`inference unavailable: ${message}`, { cause: err });
    default:
      return new InternalError(`Detect failed: ${message}`, { cause: err });
  }
}
