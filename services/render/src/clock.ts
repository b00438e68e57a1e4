/**
 * How long a frame that is ready at `nowMs` waits before the output clock's next tick may run,
 * 0 meaning now. The clock ticks every `periodMs` from `clockStartMs` and has run `ticksDone`
 * ticks, some maybe early; the next one may run once its predecessor's time has come, so the
 * output never gets ahead of its rate by more than one frame. A frame that comes a little too
 * early waits only for that moment — not for the next regular tick, which after an early tick
 * is up to a whole period later (that wait was the tail of capture→encoder latency).
 */
export function pullDelayMs(
  nowMs: number,
  clockStartMs: number,
  ticksDone: number,
  periodMs: number,
): number {
  return Math.max(0, clockStartMs + ticksDone * periodMs - nowMs);
}
