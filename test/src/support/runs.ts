import { controlSubject, type Bus, type StageName } from '@sie/bus';
import {
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
  type SourceSpec,
} from '@sie/contracts';

export interface TestRun {
  runId: string;
  modelId: string;
  source: Partial<SourceSpec> & { url: string };
  retry?: { startupAttempts: number; reconnectAttempts: number; intervalMs: number };
  generation?: number;
  /** The pipeline's rules document ({zones, lines, rules, style}) for the rules stage. */
  rulesJson?: string;
}

/** Asks a node's ingest to start a run, the way the scheduler does. */
export function startRun(bus: Bus, nodeId: string, run: TestRun): Promise<StartRunResponse> {
  return startStageRun(bus, nodeId, 'ingest', run);
}

/** Asks one stage service of a node to start a run (the scheduler starts rules before ingest). */
export function startStageRun(
  bus: Bus,
  nodeId: string,
  stage: StageName,
  run: TestRun,
): Promise<StartRunResponse> {
  const req = StartRunRequest.fromPartial({
    run: {
      runId: run.runId,
      tenantId: 'test',
      generation: run.generation ?? 1,
      outputPath: run.runId,
      pipeline: {
        modelId: run.modelId,
        scoreThreshold: 0.3,
        retry: { backoff: 'fixed', maxIntervalMs: 5000, ...run.retry },
        rulesJson: run.rulesJson ?? '',
      },
      source: { loop: false, realtime: false, rtspTransport: 'tcp', ...run.source },
    },
  });
  return bus.request(
    controlSubject(nodeId, stage, 'start'),
    StartRunRequest,
    req,
    StartRunResponse,
    10_000,
  );
}

export function stopRun(
  bus: Bus,
  nodeId: string,
  runId: string,
  generation = 1,
): Promise<StopRunResponse> {
  return bus.request(
    controlSubject(nodeId, 'ingest', 'stop'),
    StopRunRequest,
    { runId, generation, reason: 'test' },
    StopRunResponse,
    10_000,
  );
}
