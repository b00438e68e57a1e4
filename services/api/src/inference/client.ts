import { Metadata, connectivityState, credentials, type ServiceError } from '@grpc/grpc-js';
import {
  InferenceClient,
  type DetectRequest,
  type DetectResponse,
  type ModelInfo,
  type ModelSpec,
} from '@sie/contracts';
import { sieErrorFromGrpc } from './grpc-errors.js';

/** What the API needs from the inference service; every failure rejects with a SieError. */
export interface InferenceApi {
  loadModel(spec: ModelSpec): Promise<ModelInfo>;
  unloadModel(id: string): Promise<void>;
  detect(request: DetectRequest): Promise<DetectResponse>;
  /** 'ok' when calls can go through now, else why not. */
  health(): string;
  close(): void;
}

export interface GrpcInferenceOptions {
  /** host:port */
  url: string;
  detectTimeoutMs: number;
  loadTimeoutMs: number;
  /** Largest message either way (encoded images travel in Detect requests). */
  maxMessageBytes: number;
}

type Callback<T> = (err: ServiceError | null, res: T) => void;

export class GrpcInference implements InferenceApi {
  private readonly client: InferenceClient;

  constructor(private readonly options: GrpcInferenceOptions) {
    this.client = new InferenceClient(options.url, credentials.createInsecure(), {
      // Fail fast while inference is down: a client waits for an answer, not for a reconnect.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
      'grpc.max_send_message_length': options.maxMessageBytes,
      'grpc.max_receive_message_length': options.maxMessageBytes,
    });
  }

  loadModel(spec: ModelSpec): Promise<ModelInfo> {
    return this.call('LoadModel', this.options.loadTimeoutMs, (deadline, cb) =>
      this.client.loadModel({ spec }, new Metadata(), { deadline }, cb),
    );
  }

  async unloadModel(id: string): Promise<void> {
    await this.call('UnloadModel', this.options.loadTimeoutMs, (deadline, cb) =>
      this.client.unloadModel({ id }, new Metadata(), { deadline }, cb),
    );
  }

  detect(request: DetectRequest): Promise<DetectResponse> {
    return this.call('Detect', this.options.detectTimeoutMs, (deadline, cb) =>
      this.client.detect(request, new Metadata(), { deadline }, cb),
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
    operation: string,
    timeoutMs: number,
    start: (deadline: Date, cb: Callback<T>) => unknown,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      start(new Date(Date.now() + timeoutMs), (err, res) =>
        err ? reject(sieErrorFromGrpc(err, operation, timeoutMs)) : resolve(res),
      );
    });
  }
}
