import {
  LoadModelRequest,
  PixelOrder,
  StartRunRequest,
  type FrameDetections,
} from '@sie/contracts';

export const DEMO_MODEL_ID = 'yolox-nano';
export const DEMO_RUN_ID = 'demo';

/**
 * YOLOX-Nano as the inference service needs it described: 416×416 BGR input, raw 0–255 values,
 * letterbox padded with 114. The models in ../shared decode boxes inside the graph; the YOLOX
 * release file (`pnpm setup` on a machine without ../shared) leaves decoding to the host.
 */
export function yoloxLoadRequest(path: string, decodedInGraph: boolean): LoadModelRequest {
  return LoadModelRequest.fromPartial({
    spec: {
      id: DEMO_MODEL_ID,
      name: 'YOLOX-Nano (COCO)',
      path,
      task: 'detect',
      decoder: {
        type: 'yolox',
        decodedInGraph,
        nmsIou: 0.45,
        scoreThreshold: 0.3,
        layout: '',
        topK: 0,
      },
      inputWidth: 416,
      inputHeight: 416,
      // Empty: the inference service uses the 80 COCO class names.
      classNames: [],
      pixelOrder: PixelOrder.PIXEL_ORDER_BGR,
      pixelScale: 1,
      padValue: 114,
    },
  });
}

/**
 * The command the scheduler sends a node's stages to start a run; here the sample video,
 * looped and paced like a camera. Run id and generation are fixed, so sending it again is a
 * no-op for a stage that already runs it.
 */
export function demoStartRequest(videoPath: string): StartRunRequest {
  return StartRunRequest.fromPartial({
    run: {
      runId: DEMO_RUN_ID,
      tenantId: 'demo',
      generation: 1,
      pipeline: {
        modelId: DEMO_MODEL_ID,
        scoreThreshold: 0.3,
        classes: [],
        sampleFps: 0,
        retry: {
          startupAttempts: 3,
          reconnectAttempts: 10,
          intervalMs: 2000,
          backoff: 'fixed',
          maxIntervalMs: 30_000,
        },
      },
      source: { url: videoPath, loop: true, realtime: true, rtspTransport: 'tcp' },
      outputPath: DEMO_RUN_ID,
    },
  });
}

/** `frame 12: person 0.87 [10,20,110,220], car 0.55 [...], … (+3 more)` */
export function formatFrame(message: FrameDetections, maxShown = 5): string {
  const seq = message.frame?.seq ?? 0;
  const shown = [...message.detections]
    .sort((a, b) => b.score - a.score)
    .slice(0, maxShown)
    .map((d) => {
      const b = d.box;
      const box = b ? ` [${[b.x1, b.y1, b.x2, b.y2].map((v) => Math.round(v)).join(',')}]` : '';
      return `${d.label || `class ${d.classId}`} ${d.score.toFixed(2)}${box}`;
    });
  const more = message.detections.length - shown.length;
  const list = shown.length > 0 ? shown.join(', ') : 'nothing detected';
  return `frame ${seq}: ${list}${more > 0 ? `, … (+${more} more)` : ''}`;
}
