import { runStageReportsSubject, type Bus } from '@sie/bus';
import { StageEventKind, StageReport } from '@sie/contracts';
import { stageName } from './heartbeats.js';

export interface FirstFrameWait {
  /** True once the run's ingest reported its first frame at the generation; false otherwise. */
  done: Promise<boolean>;
  cancel(): void;
}

/**
 * Waits for a run's ingest to report STARTED (its first frame) at `generation`: what a move
 * waits for before it commits. A FAILED or ENDED report at that generation, or `timeoutMs`
 * without one, gives false. Subscribe before the start command, so no report is missed.
 */
export function waitFirstFrame(
  bus: Bus,
  runId: string,
  generation: number,
  timeoutMs: number,
): FirstFrameWait {
  let finish: (ok: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const sub = bus.subscribe(runStageReportsSubject(runId), StageReport, (r) => {
    if (r.generation !== generation || stageName(r.stage) !== 'ingest') return;
    if (r.kind === StageEventKind.STAGE_EVENT_KIND_STARTED) finish(true);
    else if (
      r.kind === StageEventKind.STAGE_EVENT_KIND_FAILED ||
      r.kind === StageEventKind.STAGE_EVENT_KIND_ENDED
    )
      finish(false);
  });
  const timer = setTimeout(() => finish(false), timeoutMs);
  timer.unref();
  return {
    done,
    cancel: () => {
      clearTimeout(timer);
      sub.unsubscribe();
      finish(false);
    },
  };
}
