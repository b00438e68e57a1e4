import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  InferenceClient,
  type DetectRequest,
  type DetectResponse,
  type LoadModelRequest,
  type ModelInfo,
} from '@sie/contracts';
import { ERROR_CODE_KEY } from '@sie/models';

/** A promise-shaped client of the inference service for tests. */
export class TestInferenceClient {
  readonly raw: InferenceClient;

  constructor(address: string) {
    this.raw = new InferenceClient(address, credentials.createInsecure());
  }

  detect(
    request: Partial<DetectRequest> & Pick<DetectRequest, 'modelId'>,
  ): Promise<DetectResponse> {
    const req: DetectRequest = {
      scoreThreshold: 0,
      classes: [],
      maxDetections: 0,
      requestId: '',
      ...request,
    } as DetectRequest;
    return new Promise((resolve, reject) =>
      this.raw.detect(req, new Metadata(), { deadline: Date.now() + 20_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }

  loadModel(request: LoadModelRequest): Promise<ModelInfo> {
    return new Promise((resolve, reject) =>
      this.raw.loadModel(request, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  getModel(id: string): Promise<ModelInfo> {
    return new Promise((resolve, reject) =>
      this.raw.getModel({ id }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  close(): void {
    this.raw.close();
  }
}

/** The stable sie error code a failed call carries in its trailing metadata. */
export function errorCodeOf(err: unknown): string | undefined {
  const md = (err as ServiceError | undefined)?.metadata;
  const v = md?.get(ERROR_CODE_KEY)[0];
  return typeof v === 'string' ? v : undefined;
}
