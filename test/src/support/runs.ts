import { controlSubject, type Bus } from '@sie/bus';
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
}

/** Asks a node's ingest to start a run, the way the scheduler does. */
export function startRun(bus: Bus, nodeId: string, run: TestRun): Promise<StartRunResponse> {
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
      },
      source: { loop: false, realtime: false, rtspTransport: 'tcp', ...run.source },
    },
  });
  return bus.request(
    controlSubject(nodeId, 'ingest', 'start'),
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
