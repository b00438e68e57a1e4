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
  type DetectRequest,
  type DetectResponse,
} from '@sie/contracts';
import { ModelNotFoundError, UnavailableError, asSieError, type SieError } from '@sie/errors';
import { FrameStoreReaders } from '@sie/framestore';
import { ERROR_CODE_KEY, ERROR_INFO_KEY } from '@sie/models';

export interface FakeInferenceOptions {
  /** Directory of the frame rings (the ingest's `frameStoreDir`). */
  frameStoreDir: string;
  /** Model ids answered with `model_not_found`. */
  unknownModels?: string[];
  /** Model ids answered with gRPC UNAVAILABLE (an inference service in trouble). */
  unavailableModels?: string[];
  /** Extra time per Detect, by model id (a slow model). */
  delayMs?: Record<string, number>;
}

export interface FakeDetectRecord {
  runId: string;
  seq: number;
  bytes: number;
  /** The frame had real pixels (not an all-zero slot). */
  nonZero: boolean;
  traceparent: string | undefined;
}

/**
 * TEST DOUBLE of the inference service — not the real model. It implements `Inference.Detect`
 * over real gRPC, reads each referenced frame from the real frame store (so a bad reference or
 * an overwritten slot fails as it would for real) and answers one detection covering the whole
 * frame. Errors carry the same trailers as services/inference (`sie-error-code`, `sie-error-bin`).
 */
export class FakeInferenceForTest {
  readonly calls: FakeDetectRecord[] = [];
  /** host:port, once started. */
  url = '';
  private readonly server = new Server();
  private readonly readers: FrameStoreReaders;

  private constructor(private readonly options: FakeInferenceOptions) {
    this.readers = new FrameStoreReaders(options.frameStoreDir);
  }

  static async start(options: FakeInferenceOptions): Promise<FakeInferenceForTest> {
    const self = new FakeInferenceForTest(options);
    const server = self.server;
    const unimplemented: UntypedHandleCall = (_call: unknown, callback: unknown) =>
      (callback as sendUnaryData<never>)({ code: status.UNIMPLEMENTED, details: 'fake' });
    server.addService(InferenceService, {
      detect: (
        call: ServerUnaryCall<DetectRequest, DetectResponse>,
        callback: sendUnaryData<DetectResponse>,
      ) => {
        void self.detect(call, callback);
      },
      detectStream: unimplemented,
      listModels: unimplemented,
      getModel: unimplemented,
      loadModel: unimplemented,
      unloadModel: unimplemented,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    self.url = `127.0.0.1:${port}`;
    return self;
  }

  private async detect(
    call: ServerUnaryCall<DetectRequest, DetectResponse>,
    callback: sendUnaryData<DetectResponse>,
  ): Promise<void> {
    const req = call.request;
    const o = this.options;
    try {
      const delay = o.delayMs?.[req.modelId] ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (o.unknownModels?.includes(req.modelId)) throw new ModelNotFoundError(req.modelId);
      if (o.unavailableModels?.includes(req.modelId)) {
        throw new UnavailableError('fake inference is unavailable');
      }
      if (req.input?.$case !== 'frame') throw new Error('the fake only reads frame references');
      const ref = req.input.frame;
      const pixels = this.readers.read(ref);
      this.calls.push({
        runId: ref.runId,
        seq: ref.seq,
        bytes: pixels.byteLength,
        nonZero: pixels.some((b) => b !== 0),
        traceparent: call.metadata.get('traceparent')[0]?.toString(),
      });
      callback(null, {
        requestId: req.requestId,
        modelId: req.modelId,
        detections: [
          {
            classId: 0,
            label: 'frame',
            score: 1,
            trackId: 0,
            box: { x1: 0, y1: 0, x2: ref.width, y2: ref.height },
          },
        ],
        timings: {
          queueMs: 0,
          preprocessMs: 0,
          inferenceMs: delay,
          postprocessMs: 0,
          readMs: 0,
          batchSize: 1,
        },
        width: ref.width,
        height: ref.height,
        frame: ref,
        error: undefined,
      });
    } catch (err) {
      callback(grpcError(asSieError(err)));
    }
  }

  async stop(): Promise<void> {
    this.readers.closeAll();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

const STATUS: Record<string, status> = {
  model_not_found: status.NOT_FOUND,
  frame_overwritten: status.ABORTED,
  unavailable: status.UNAVAILABLE,
};

function grpcError(e: SieError): Partial<{ code: status; details: string; metadata: Metadata }> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  metadata.set(ERROR_INFO_KEY, Buffer.from(ErrorInfo.encode(e.toPayload()).finish()));
  return { code: STATUS[e.code] ?? status.INTERNAL, details: e.message, metadata };
}
