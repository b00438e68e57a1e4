import { detectionsSubject, heartbeatSubject, stageReportSubject, type Bus } from '@sie/bus';
import {
  FrameDetections,
  Heartbeat,
  Stage,
  StageReport,
  type StageEventKind,
} from '@sie/contracts';
import type { SieError } from '@sie/errors';
import type { Context } from '@sie/telemetry';

/** Where a run's output goes. The bus is the real one; tests may record instead. */
export interface RunPublisher {
  detections(message: FrameDetections, ctx: Context): void;
  report(report: StageReport): void;
  heartbeat(heartbeat: Heartbeat): void;
}

export class BusPublisher implements RunPublisher {
  constructor(private readonly bus: Bus) {}

  detections(message: FrameDetections, ctx: Context): void {
    const runId = message.frame?.runId ?? '';
    this.bus.publish(detectionsSubject(runId), FrameDetections, message, ctx);
  }

  report(report: StageReport): void {
    this.bus.publish(stageReportSubject(report.runId, 'ingest'), StageReport, report);
  }

  heartbeat(heartbeat: Heartbeat): void {
    this.bus.publish(heartbeatSubject(heartbeat.runId, 'ingest'), Heartbeat, heartbeat);
  }
}

export interface RunIdentity {
  runId: string;
  nodeId: string;
  generation: number;
}

export function stageReport(
  id: RunIdentity,
  kind: StageEventKind,
  attempt: number,
  error?: SieError,
): StageReport {
  return {
    runId: id.runId,
    stage: Stage.STAGE_INGEST,
    nodeId: id.nodeId,
    generation: id.generation,
    kind,
    error: error?.toPayload(),
    atMs: Date.now(),
    attempt,
  };
}
