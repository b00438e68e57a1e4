import type { DetectResponse, FrameRef } from '@sie/contracts';
import { InferenceGateway } from '@sie/models';
import type { Context } from '@sie/telemetry';

export interface DetectCall {
  modelId: string;
  frame: FrameRef;
  scoreThreshold: number;
  classes: string[];
}

/**
 * What a run needs from inference. The gRPC client is one implementation; tests or an in-process
 * model can provide another without touching the run logic.
 */
export interface Detector {
  /** Detections of one frame; rejects with a SieError (`frame_overwritten`, `model_not_found` …). */
  detect(call: DetectCall, ctx: Context): Promise<DetectResponse>;
  /** 'ok' when calls can go through now, else why not (for /healthz). */
  health(): string;
  close(): void;
}

export interface GrpcDetectorOptions {
  /** host:port */
  url: string;
  timeoutMs: number;
}

/**
 * Detect by frame reference over gRPC (`@sie/models`' InferenceGateway: the frame's trace context
 * in the call metadata, errors rebuilt from the service's trailers).
 */
export class GrpcDetector implements Detector {
  private readonly gateway: InferenceGateway;

  constructor(options: GrpcDetectorOptions) {
    this.gateway = new InferenceGateway({
      url: options.url,
      detectTimeoutMs: options.timeoutMs,
      // Ingest never loads models (the scheduler does); the deadline only has to be set.
      loadTimeoutMs: options.timeoutMs,
      // A run's channel lives as long as the run: notice a dead inference between frames.
      keepaliveMs: 30_000,
    });
  }

  detect(call: DetectCall, ctx: Context): Promise<DetectResponse> {
    return this.gateway.detect(
      {
        modelId: call.modelId,
        input: { $case: 'frame', frame: call.frame },
        scoreThreshold: call.scoreThreshold,
        classes: call.classes,
        maxDetections: 0,
        requestId: '',
      },
      ctx,
    );
  }

  health(): string {
    return this.gateway.health();
  }

  close(): void {
    this.gateway.close();
  }
}
