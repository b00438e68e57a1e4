import type { Event } from '@sie/contracts';

/** The JSON form of a rule event served over HTTP (`sie.v1.Event` with stable field names). */
export function eventToJson(e: Event): Record<string, unknown> {
  const r = (v: number): number => Math.round(v * 10) / 10;
  return {
    id: e.id,
    tenantId: e.tenantId,
    runId: e.runId,
    ruleId: e.ruleId,
    kind: e.kind,
    captureTimeMs: e.captureTimeMs,
    frameSeq: e.frame?.seq ?? 0,
    trackIds: e.trackIds,
    counts: e.counts,
    message: e.message,
    objects: e.objects.map((x) => ({
      label: x.label,
      score: Math.round(x.score * 1000) / 1000,
      box: x.box ? [r(x.box.x1), r(x.box.y1), r(x.box.x2), r(x.box.y2)] : undefined,
      ...(x.trackId ? { trackId: x.trackId } : {}),
    })),
  };
}
