import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { DetectRequest, DetectResponse, Detection } from '@sie/contracts';
import { FrameOverwrittenError, InvalidArgumentError, asSieError } from '@sie/errors';
import type { Context, Tracer } from '@sie/telemetry';
import type { RawDetection } from '../decoders/types.js';
import type { InferenceMetrics } from '../metrics.js';
import type { ModelRegistry } from '../models/registry.js';
import type { JobInput } from '../workers/protocol.js';
import type { WorkerPool } from '../workers/pool.js';
import { decodeImage } from './decode-image.js';
import { checkFrameRef, requestOptions } from './request.js';

export interface DetectorDeps {
  models: ModelRegistry;
  pool: WorkerPool;
  metrics: InferenceMetrics;
  tracer: Tracer;
  maxImagePixels: number;
}

/**
 * One Detect request end to end: resolve the model, get pixels (frame store reference read by
 * the worker, or an encoded image decoded here), run it on the pool, label the detections.
 * Every request gets a span (child of the caller's trace context) and its metrics.
 */
export class Detector {
  constructor(private readonly d: DetectorDeps) {}

  async detect(req: DetectRequest, parent: Context): Promise<DetectResponse> {
    const started = performance.now();
    const frame = req.input?.$case === 'frame' ? req.input.frame : undefined;
    const attributes: Attributes = { 'sie.model_id': req.modelId };
    if (req.requestId) attributes['sie.request_id'] = req.requestId;
    if (frame) {
      attributes['sie.run_id'] = frame.runId;
      attributes['sie.frame_seq'] = frame.seq;
    }
    const span = this.d.tracer.startSpan(
      'inference.detect',
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    // Unknown ids must not become label values (a client could mint unbounded series).
    const modelLabel = this.d.models.get(req.modelId) ? req.modelId : '_unknown';
    try {
      if (!req.modelId) throw new InvalidArgumentError('model_id is required', 'model_id');
      const model = this.d.models.ready(req.modelId);
      const options = requestOptions(req, model.config);
      let input: JobInput;
      let decodeMs = 0;
      const transfer: ArrayBuffer[] = [];
      switch (req.input?.$case) {
        case 'frame':
          checkFrameRef(req.input.frame);
          input = { kind: 'frame', ref: req.input.frame };
          break;
        case 'image': {
          const t0 = performance.now();
          const image = await decodeImage(req.input.image.data, this.d.maxImagePixels);
          decodeMs = performance.now() - t0;
          input = { kind: 'pixels', image };
          // Hand the pixels over rather than copy them, when the buffer is theirs alone.
          const buf = image.data.buffer;
          if (buf instanceof ArrayBuffer && image.data.byteLength === buf.byteLength) {
            transfer.push(buf);
          }
          break;
        }
        default:
          throw new InvalidArgumentError(
            'input is required: a frame reference or an encoded image',
            'input',
          );
      }
      const { result, queueMs } = await this.d.pool.run(
        { modelKey: model.key, modelId: model.config.id, input, ...options },
        transfer,
      );
      const t = result.timings;
      const readMs = t.readMs + decodeMs;
      const totalMs = performance.now() - started;
      const m = this.d.metrics;
      m.requests.inc({ model: modelLabel, outcome: 'ok' });
      m.latency.observe({ model: modelLabel, stage: 'queue' }, queueMs);
      m.latency.observe({ model: modelLabel, stage: 'read' }, readMs);
      m.latency.observe({ model: modelLabel, stage: 'preprocess' }, t.preprocessMs);
      m.latency.observe({ model: modelLabel, stage: 'inference' }, t.inferenceMs);
      m.latency.observe({ model: modelLabel, stage: 'postprocess' }, t.postprocessMs);
      m.latency.observe({ model: modelLabel, stage: 'total' }, totalMs);
      m.batchSize.observe({ model: modelLabel }, result.batchSize);
      span.setAttribute('sie.detections', result.detections.length);
      return {
        requestId: req.requestId,
        modelId: model.config.id,
        detections: result.detections.map((r) => toDetection(r, model.config.classNames)),
        timings: {
          queueMs,
          readMs,
          preprocessMs: t.preprocessMs,
          inferenceMs: t.inferenceMs,
          postprocessMs: t.postprocessMs,
          batchSize: result.batchSize,
        },
        width: result.width,
        height: result.height,
        frame,
        error: undefined,
      };
    } catch (err) {
      const e = asSieError(err);
      this.d.metrics.requests.inc({ model: modelLabel, outcome: e.code });
      if (e instanceof FrameOverwrittenError) {
        this.d.metrics.framesDropped.inc({ reason: 'frame_overwritten' });
      }
      span.recordException(e);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.setAttribute('sie.error_code', e.code);
      throw e;
    } finally {
      span.end();
    }
  }
}

function toDetection(r: RawDetection, classNames: readonly string[]): Detection {
  return {
    classId: r.classId,
    label: classNames[r.classId] ?? String(r.classId),
    score: r.score,
    box: { x1: r.x1, y1: r.y1, x2: r.x2, y2: r.y2 },
    trackId: 0,
  };
}
