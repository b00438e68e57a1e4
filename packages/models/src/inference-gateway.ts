import { Metadata, connectivityState, credentials, type ServiceError } from '@grpc/grpc-js';
import {
  InferenceClient,
  type DetectRequest,
  type DetectResponse,
  type ModelInfo,
  type ModelSpec,
} from '@sie/contracts';
import { injectTraceContext, type Context } from '@sie/telemetry';
import { sieErrorFromGrpc, type GrpcCallInfo } from './grpc-errors.js';

/**
 * What callers need from the inference service. Every failure rejects with a SieError, rebuilt
 * from the service's trailers where it sent them (`model_error`, `model_not_found`, …).
 */
export interface InferenceApi {
  /** Loads (or reloads) a model; loading the spec that is already loaded is a no-op there. */
  loadModel(spec: ModelSpec): Promise<ModelInfo>;
  unloadModel(id: string): Promise<void>;
  /** What inference knows of a loaded model (its resolved spec, input shape, state). */
  getModel(id: string): Promise<ModelInfo>;
  /** One Detect; `ctx` (else the active context) travels as W3C `traceparent` metadata. */
  detect(request: DetectRequest, ctx?: Context): Promise<DetectResponse>;
  /** 'ok' when calls can go through now, else why not (for /healthz). */
  health(): string;
  close(): void;
}

/** The part of the inference service that makes a model servable (the scheduler's view). */
export type ModelLoader = Pick<InferenceApi, 'loadModel'>;

export interface InferenceGatewayOptions {
  /** host:port */
  url: string;
  /** Deadline of one Detect. */
  detectTimeoutMs: number;
  /** Deadline of LoadModel and UnloadModel (a load builds a session in every worker). */
  loadTimeoutMs: number;
  /** Largest message either way (encoded images travel in Detect); gRPC's 4 MiB when unset. */
  maxMessageBytes?: number;
  /** Keepalive ping interval, for long-lived channels that must notice a dead peer. */
  keepaliveMs?: number;
}

type Callback<T> = (err: ServiceError | null, res: T) => void;

/** The inference service over gRPC (sie.v1.Inference), one channel per gateway. */
export class InferenceGateway implements InferenceApi {
  private readonly client: InferenceClient;

  constructor(private readonly options: InferenceGatewayOptions) {
    this.client = new InferenceClient(options.url, credentials.createInsecure(), {
      // Fail fast while inference is down: a caller waits for an answer, not for a reconnect,
      // and a queued Detect would arrive stale.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
      ...(options.maxMessageBytes
        ? {
            'grpc.max_send_message_length': options.maxMessageBytes,
            'grpc.max_receive_message_length': options.maxMessageBytes,
          }
        : {}),
      ...(options.keepaliveMs ? { 'grpc.keepalive_time_ms': options.keepaliveMs } : {}),
    });
  }

  loadModel(spec: ModelSpec): Promise<ModelInfo> {
    const call = {
      operation: 'LoadModel',
      timeoutMs: this.options.loadTimeoutMs,
      modelId: spec.id,
    };
    return this.call(call, (md, deadline, cb) =>
      this.client.loadModel({ spec }, md, { deadline }, cb),
    );
  }

  getModel(id: string): Promise<ModelInfo> {
    const call = { operation: 'GetModel', timeoutMs: this.options.detectTimeoutMs, modelId: id };
    return this.call(call, (md, deadline, cb) =>
      this.client.getModel({ id }, md, { deadline }, cb),
    );
  }

  async unloadModel(id: string): Promise<void> {
    const call = { operation: 'UnloadModel', timeoutMs: this.options.loadTimeoutMs, modelId: id };
    await this.call(call, (md, deadline, cb) =>
      this.client.unloadModel({ id }, md, { deadline }, cb),
    );
  }

  detect(request: DetectRequest, ctx?: Context): Promise<DetectResponse> {
    const call: GrpcCallInfo = {
      operation: 'Detect',
      timeoutMs: this.options.detectTimeoutMs,
      modelId: request.modelId,
      frame: request.input?.$case === 'frame' ? request.input.frame : undefined,
    };
    return this.call(
      call,
      (md, deadline, cb) => this.client.detect(request, md, { deadline }, cb),
      ctx,
    );
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

  private call<T>(
    info: GrpcCallInfo,
    start: (metadata: Metadata, deadline: Date, cb: Callback<T>) => unknown,
    ctx?: Context,
  ): Promise<T> {
    const metadata = new Metadata();
    const carrier: Record<string, string> = {};
    injectTraceContext(carrier, ctx);
    for (const [key, value] of Object.entries(carrier)) metadata.set(key, value);
    return new Promise<T>((resolve, reject) => {
      start(metadata, new Date(Date.now() + info.timeoutMs), (err, res) =>
        err ? reject(sieErrorFromGrpc(err, info)) : resolve(res),
      );
    });
  }
}
