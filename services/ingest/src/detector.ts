import type { DetectResponse, FrameRef, ModelInfo } from '@sie/contracts';
import type { ModelFrameOptions } from '@sie/media';
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
  /**
   * The letterbox a model's input takes, for the decoder to produce it (null: not known, e.g. the
   * model is not loaded; rejects when inference cannot be asked).
   */
  modelInput(modelId: string): Promise<ModelFrameOptions | null>;
  /** 'ok' when calls can go through now, else why not (for /healthz). */
  health(): string;
  close(): void;
}

/** The model-size frame a loaded model takes, from what inference reports of it. */
export function modelFrameOptions(info: ModelInfo): ModelFrameOptions | null {
  const spec = info.spec;
  if (!spec) return null;
  // [N, 3, H, W]: the graph's own size where the spec leaves it to the graph.
  const width = spec.inputWidth || (info.inputShape[3] ?? 0);
  const height = spec.inputHeight || (info.inputShape[2] ?? 0);
  if (!(width > 0 && height > 0)) return null;
  const placement = spec.letterbox === 'center' ? 'center' : 'top-left';
  const padValue = Math.round(spec.padValue);
  if (!(padValue >= 0 && padValue <= 255)) return null;
  return { width, height, placement, padValue };
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

  async modelInput(modelId: string): Promise<ModelFrameOptions | null> {
    return modelFrameOptions(await this.gateway.getModel(modelId));
  }

  health(): string {
    return this.gateway.health();
  }

  close(): void {
    this.gateway.close();
  }
}
