import type { Event } from '@sie/contracts';

/**
 * The JSON form of a rule event served over HTTP (`sie.v1.Event` with stable field names). With
 * `snapshots` (the run's pipeline takes them) it links the event's snapshot as `snapshotUrl`.
 */
export function eventToJson(
  e: Event,
  options: { snapshots?: boolean } = {},
): Record<string, unknown> {
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
    ...(options.snapshots ? { snapshotUrl: `/v1/runs/${e.runId}/events/${e.id}/snapshot` } : {}),
  };
}
