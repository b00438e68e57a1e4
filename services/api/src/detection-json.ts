import type { FrameDetections } from '@sie/contracts';

/** The JSON form of a frame's detections served over HTTP (stable field names, rounded boxes). */
export function detectionsToJson(d: FrameDetections): Record<string, unknown> {
  const r = (v: number): number => Math.round(v * 10) / 10;
  return {
    runId: d.frame?.runId,
    tenantId: d.tenantId,
    modelId: d.modelId,
    frame: d.frame && {
      seq: d.frame.seq,
      captureTimeMs: d.frame.captureTimeMs,
      ptsMs: d.frame.ptsMs,
      width: d.frame.width,
      height: d.frame.height,
    },
    latencyMs: r(d.latencyMs),
    detections: d.detections.map((x) => ({
      label: x.label,
      classId: x.classId,
      score: Math.round(x.score * 1000) / 1000,
      box: x.box ? [r(x.box.x1), r(x.box.y1), r(x.box.x2), r(x.box.y2)] : undefined,
      ...(x.trackId ? { trackId: x.trackId } : {}),
    })),
  };
}
