// Shapes of the jsonb columns. The API validates what goes in; these types only spare readers a
// cast. Each keeps an index signature so a newer writer's extra keys do not break older readers.

/** How a network's raw output becomes detections (mirrors sie.v1.DecoderSpec). */
export interface ModelDecoderJson {
  /** `yolox` | `yolo` | `classify` */
  type: string;
  /** yolox: box decoding is inside the graph. */
  decodedInGraph?: boolean;
  nmsIou?: number;
  scoreThreshold?: number;
  [key: string]: unknown;
}

/** Startup and reconnect retries (mirrors sie.v1.RetryPolicy). */
export interface RetryPolicyJson {
  startupAttempts?: number;
  reconnectAttempts?: number;
  intervalMs?: number;
  backoff?: 'fixed' | 'exponential';
  maxIntervalMs?: number;
  [key: string]: unknown;
}

/** A pipeline's per-client configuration (`pipelines.config`). */
export interface PipelineConfigJson {
  scoreThreshold?: number;
  classes?: string[];
  /** Frames per second to process; 0 or absent keeps the source rate. */
  sampleFps?: number;
  outputWidth?: number;
  outputHeight?: number;
  outputFps?: number;
  zones?: unknown[];
  lines?: unknown[];
  rules?: unknown[];
  style?: Record<string, unknown>;
  retry?: RetryPolicyJson;
  [key: string]: unknown;
}

/** Where a run reads frames from (`runs.source`, mirrors sie.v1.SourceSpec). */
export interface RunSourceJson {
  /** file:///abs/path.mp4, /abs/path.mp4, rtsp://..., rtsps://... */
  url: string;
  loop?: boolean;
  realtime?: boolean;
  rtspTransport?: 'tcp' | 'udp';
  [key: string]: unknown;
}

/** Where a run's annotated stream goes (`runs.output`). */
export interface RunOutputJson {
  /** RTSP path the render service publishes to. */
  path?: string;
  [key: string]: unknown;
}
