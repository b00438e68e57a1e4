import assert from 'node:assert/strict';
import { Metadata, credentials, type ServiceError, type status } from '@grpc/grpc-js';
import {
  DetectRequest,
  HealthClient,
  InferenceClient,
  ModelSpec,
  type DetectResponse,
  type HealthCheckResponse,
  type ModelInfo,
} from '@sie/contracts';
import { ERROR_CODE_KEY } from '@sie/models';

type Callback<T> = (err: ServiceError | null, res: T) => void;

function unary<T>(start: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** A promise-based client of one inference server, for tests. */
export class TestClient {
  readonly inference: InferenceClient;
  readonly health: HealthClient;

  constructor(port: number) {
    const address = `127.0.0.1:${port}`;
    this.inference = new InferenceClient(address, credentials.createInsecure());
    this.health = new HealthClient(address, credentials.createInsecure());
  }

  detect(req: Partial<DetectRequest>, metadata = new Metadata()): Promise<DetectResponse> {
    return unary((cb) => this.inference.detect(DetectRequest.fromPartial(req), metadata, cb));
  }

  listModels(): Promise<ModelInfo[]> {
    return unary<{ models: ModelInfo[] }>((cb) => this.inference.listModels({}, cb)).then(
      (r) => r.models,
    );
  }

  getModel(id: string): Promise<ModelInfo> {
    return unary((cb) => this.inference.getModel({ id }, cb));
  }

  loadModel(spec: Partial<ModelSpec>): Promise<ModelInfo> {
    return unary((cb) => this.inference.loadModel({ spec: ModelSpec.fromPartial(spec) }, cb));
  }

  unloadModel(id: string): Promise<unknown> {
    return unary((cb) => this.inference.unloadModel({ id }, cb));
  }

  check(service: string): Promise<HealthCheckResponse> {
    return unary((cb) => this.health.check({ service }, cb));
  }

  close(): void {
    this.inference.close();
    this.health.close();
  }
}

/** Awaits a call that must fail with this gRPC status and `sie-error-code`; returns the error. */
export async function rejectsWith(
  call: Promise<unknown>,
  grpcStatus: status,
  code: string,
): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    const e = err as ServiceError;
    assert.equal(e.code, grpcStatus, `status of: ${e.message}`);
    assert.equal(e.metadata.get(ERROR_CODE_KEY)[0], code, `code of: ${e.message}`);
    return e;
  }
  assert.fail(`expected a ${code} error`);
}
