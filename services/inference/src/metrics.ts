import { Counter, Gauge, Histogram, LATENCY_BUCKETS_MS, type Registry } from '@sie/telemetry';

export type LatencyStage = 'queue' | 'read' | 'preprocess' | 'inference' | 'postprocess' | 'total';

export interface InferenceMetrics {
  /** outcome: `ok` or the error code. */
  requests: Counter<'model' | 'outcome'>;
  latency: Histogram<'model' | 'stage'>;
  queueDepth: Gauge;
  /**
   * Frames that were not processed: `frame_overwritten`, `queue_full`, `shutting_down`,
   * `superseded` (a newer frame of the same stream replaced it in the queue).
   */
  framesDropped: Counter<'reason'>;
  /** Images per session.run (dynamic batching), observed once per request. */
  batchSize: Histogram<'model'>;
  workerRestarts: Counter;
}

export function createInferenceMetrics(registry: Registry): InferenceMetrics {
  return {
    requests: new Counter({
      name: 'sie_inference_requests_total',
      help: 'Detect requests by model and outcome (ok or the error code)',
      labelNames: ['model', 'outcome'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'sie_inference_latency_ms',
      help: 'Detect latency by stage, in milliseconds',
      labelNames: ['model', 'stage'] as const,
      buckets: LATENCY_BUCKETS_MS,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'sie_inference_queue_depth',
      help: 'Jobs waiting for an inference worker',
      registers: [registry],
    }),
    framesDropped: new Counter({
      name: 'sie_inference_frames_dropped_total',
      help: 'Requests dropped before inference, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'sie_inference_batch_size',
      help: 'Images in the session.run that served each Detect request (dynamic batching)',
      labelNames: ['model'] as const,
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
      registers: [registry],
    }),
    workerRestarts: new Counter({
      name: 'sie_inference_worker_restarts_total',
      help: 'Inference worker threads replaced after they stopped',
      registers: [registry],
    }),
  };
}
