import type { ServerDuplexStream } from '@grpc/grpc-js';
import type {
  DetectRequest,
  DetectResponse,
  InferenceServer,
  ListModelsResponse,
  UnloadModelResponse,
} from '@sie/contracts';
import { InvalidArgumentError, ModelNotFoundError, asSieError, toErrorPayload } from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import type { Detector } from '../detect/detector.js';
import type { ModelRegistry } from '../models/registry.js';
import { modelConfigFromProto, type ModelConfig } from '../models/spec.js';
import { toGrpcError } from './errors.js';
import { toModelInfo } from './model-info.js';
import { traceContextOf } from './trace-context.js';

export interface InferenceServiceDeps {
  detector: Detector;
  models: ModelRegistry;
  logger: Logger;
}

/** sie.v1.Inference over gRPC; the work itself lives in Detector and ModelRegistry. */
export function createInferenceService(d: InferenceServiceDeps): InferenceServer {
  const fail = (method: string, err: unknown): ReturnType<typeof toGrpcError> => {
    const e = asSieError(err);
    const level = e.code === 'internal_error' ? 'error' : 'debug';
    d.logger[level]({ err: e, method, code: e.code }, `${method} failed`);
    return toGrpcError(e);
  };

  return {
    detect: (call, callback) => {
      d.detector.detect(call.request, traceContextOf(call.metadata)).then(
        (res) => callback(null, res),
        (err: unknown) => callback(fail('Detect', err)),
      );
    },

    detectStream: (call: ServerDuplexStream<DetectRequest, DetectResponse>) => {
      const parent = traceContextOf(call.metadata);
      let inFlight = 0;
      let inputEnded = false;
      let closed = false;
      const finish = (): void => {
        if (inputEnded && inFlight === 0 && !closed) {
          closed = true;
          call.end();
        }
      };
      const reply = (res: DetectResponse): void => {
        if (!closed) call.write(res);
      };
      // Requests run concurrently (the pool queues them); each answer carries its request_id,
      // and a failed request is answered with `error` while the stream goes on.
      call.on('data', (req: DetectRequest) => {
        inFlight++;
        d.detector
          .detect(req, parent)
          .then(reply, (err: unknown) => {
            const e = asSieError(err);
            if (e.code === 'internal_error') {
              d.logger.error({ err: e, requestId: req.requestId }, 'DetectStream request failed');
            }
            reply({
              requestId: req.requestId,
              modelId: req.modelId,
              detections: [],
              timings: undefined,
              width: 0,
              height: 0,
              frame: req.input?.$case === 'frame' ? req.input.frame : undefined,
              error: toErrorPayload(e),
            });
          })
          .finally(() => {
            inFlight--;
            finish();
          });
      });
      call.on('end', () => {
        inputEnded = true;
        finish();
      });
      call.on('cancelled', () => {
        closed = true;
      });
      call.on('error', (err) => {
        closed = true;
        d.logger.debug({ err }, 'DetectStream closed by an error');
      });
    },

    listModels: (_call, callback) => {
      const res: ListModelsResponse = { models: d.models.list().map(toModelInfo) };
      callback(null, res);
    },

    getModel: (call, callback) => {
      const id = call.request.id;
      const entry = id ? d.models.get(id) : undefined;
      if (!id) callback(fail('GetModel', new InvalidArgumentError('id is required', 'id')));
      else if (!entry) callback(fail('GetModel', new ModelNotFoundError(id)));
      else callback(null, toModelInfo(entry));
    },

    loadModel: (call, callback) => {
      let config: ModelConfig;
      try {
        config = modelConfigFromProto(call.request.spec);
      } catch (err) {
        callback(fail('LoadModel', err));
        return;
      }
      d.models.load(config).then(
        (entry) => callback(null, toModelInfo(entry)),
        (err: unknown) => callback(fail('LoadModel', err)),
      );
    },

    unloadModel: (call, callback) => {
      const id = call.request.id;
      if (!id) {
        callback(fail('UnloadModel', new InvalidArgumentError('id is required', 'id')));
        return;
      }
      d.models.unload(id).then(
        () => callback(null, {} satisfies UnloadModelResponse),
        (err: unknown) => callback(fail('UnloadModel', err)),
      );
    },
  };
}
