import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import {
  ErrorInfo,
  InferenceService,
  ModelSpec,
  ModelState,
  type DetectRequest,
  type DetectResponse,
  type LoadModelRequest,
  type ModelInfo,
  type UnloadModelRequest,
  type UnloadModelResponse,
} from '@sie/contracts';
import {
  ModelError,
  ModelNotFoundError,
  TimeoutError,
  UnavailableError,
  type SieError,
} from '@sie/errors';
import { context, initTracing, trace } from '@sie/telemetry';
import { ERROR_CODE_KEY, ERROR_INFO_KEY, InferenceGateway } from './index.js';

// A stand-in inference service: errors carry the trailers the real one writes (`toGrpcError`).
const trailers = (e: SieError, code: status) => {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  metadata.set(ERROR_INFO_KEY, Buffer.from(ErrorInfo.encode(e.toPayload()).finish()));
  return { code, details: e.message, metadata };
};

const server = new Server();
let url = '';
const seen: { traceparent?: string; deadline?: number }[] = [];

before(async () => {
  const unimplemented: UntypedHandleCall = (_call: unknown, cb: unknown) =>
    (cb as sendUnaryData<never>)({ code: status.UNIMPLEMENTED, details: 'stand-in' });
  server.addService(InferenceService, {
    loadModel: (
      call: ServerUnaryCall<LoadModelRequest, ModelInfo>,
      cb: sendUnaryData<ModelInfo>,
    ) => {
      const spec = call.request.spec;
      if (spec?.path.endsWith('.txt')) {
        cb(
          trailers(
            new ModelError(`${spec.path}: not an ONNX model`, spec.id),
            status.FAILED_PRECONDITION,
          ),
        );
        return;
      }
      cb(null, {
        spec,
        state: ModelState.MODEL_STATE_READY,
        executionProvider: 'cpu',
        inputName: 'images',
        inputShape: [1, 3, 416, 416],
        outputName: 'output',
        outputShape: [1, 3549, 85],
        error: undefined,
      });
    },
    unloadModel: (
      _call: ServerUnaryCall<UnloadModelRequest, UnloadModelResponse>,
      cb: sendUnaryData<UnloadModelResponse>,
    ) => cb({ code: status.NOT_FOUND, details: 'no such model' }),
    detect: (call: ServerUnaryCall<DetectRequest, DetectResponse>, cb: sendUnaryData<never>) => {
      const deadline = call.getDeadline();
      seen.push({
        traceparent: call.metadata.get('traceparent')[0]?.toString(),
        deadline: deadline instanceof Date ? deadline.getTime() : Number(deadline),
      });
      // Never answers in time: the client's deadline ends the call.
      setTimeout(() => cb({ code: status.INTERNAL, details: 'too late' }), 1000);
    },
    detectStream: unimplemented,
    listModels: unimplemented,
    getModel: unimplemented,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  url = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

const gateway = (over: Partial<ConstructorParameters<typeof InferenceGateway>[0]> = {}) =>
  new InferenceGateway({ url, detectTimeoutMs: 150, loadTimeoutMs: 2000, ...over });

test('LoadModel answers the model; its failure is the SieError the service sent', async () => {
  const g = gateway();
  try {
    const info = await g.loadModel(ModelSpec.fromPartial({ id: 'm', path: '/m.onnx' }));
    assert.equal(info.state, ModelState.MODEL_STATE_READY);
    assert.equal(g.health(), 'ok');
    await assert.rejects(
      g.loadModel(ModelSpec.fromPartial({ id: 'junk', path: '/junk.txt' })),
      (e: unknown) =>
        e instanceof ModelError && e.modelId === 'junk' && /junk\.txt: not an ONNX/.test(e.message),
    );
    // No trailers: the status (NOT_FOUND) and the call's model id make the error.
    await assert.rejects(
      g.unloadModel('gone'),
      (e: unknown) => e instanceof ModelNotFoundError && e.modelId === 'gone',
    );
  } finally {
    g.close();
  }
});

test("Detect carries the caller's trace context and the deadline from the options", async () => {
  const tracing = initTracing({ service: 'models-test', sampleRatio: 0 });
  const g = gateway();
  try {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const ctx = trace.setSpanContext(context.active(), {
      traceId,
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    const request: DetectRequest = {
      modelId: 'm',
      input: undefined,
      scoreThreshold: 0,
      classes: [],
      maxDetections: 0,
      requestId: 'r1',
    };
    const sent = Date.now();
    await assert.rejects(
      g.detect(request, ctx),
      (e: unknown) => e instanceof TimeoutError && e.operation === 'Detect' && e.timeoutMs === 150,
    );
    const call = seen.at(-1);
    assert.equal(call?.traceparent, `00-${traceId}-b7ad6b7169203331-01`);
    const deadlineIn = (call?.deadline ?? 0) - sent;
    assert.ok(deadlineIn > 0 && deadlineIn <= 1000, `deadline ${deadlineIn} ms after the call`);
  } finally {
    g.close();
    await tracing.shutdown();
  }
});

test('nothing listening: unavailable, and health says so', async () => {
  const g = new InferenceGateway({
    url: '127.0.0.1:1',
    detectTimeoutMs: 2000,
    loadTimeoutMs: 2000,
  });
  try {
    await assert.rejects(
      g.loadModel(ModelSpec.fromPartial({ id: 'm', path: '/m.onnx' })),
      (e: unknown) => e instanceof UnavailableError && /unavailable/.test(e.message),
    );
    assert.match(g.health(), /unavailable \(127\.0\.0\.1:1\)|connecting/);
  } finally {
    g.close();
  }
});
