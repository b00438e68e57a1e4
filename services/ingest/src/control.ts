import { controlSubject, type Bus } from '@sie/bus';
import { StartRunRequest, StartRunResponse, StopRunRequest, StopRunResponse } from '@sie/contracts';
import { InvalidArgumentError, SieError, toErrorPayload } from '@sie/errors';
import { serveStagePing } from '@sie/service-kit';
import type { Logger } from '@sie/telemetry';
import type { RunManager } from './run-manager.js';
import { validateStartRequest, type ValidateOptions } from './run-spec.js';

export interface ControlOptions {
  bus: Bus;
  nodeId: string;
  manager: RunManager;
  validation: ValidateOptions;
  logger: Logger;
  /** Announced with the node's presence (admission control); 0: not stated. */
  capacityFps?: number;
}

/**
 * Answers the scheduler's commands on `sie.ctl.<node>.ingest.{start,stop,ping}`. Refusals are
 * answers (`accepted: false` with the error's code), never timeouts. Ping answers with the held
 * runs and the places left (NodeStatus.capacity).
 */
export function serveControl(o: ControlOptions): { close(): void } {
  const { bus, nodeId, manager, logger } = o;
  const subs = [
    bus.serve(
      controlSubject(nodeId, 'ingest', 'start'),
      StartRunRequest,
      StartRunResponse,
      async (request) => {
        try {
          const spec = validateStartRequest(request, o.validation);
          await manager.start(spec);
          logger.info(
            { run: spec.runId, generation: spec.generation, source: spec.source.kind },
            'run accepted',
          );
          return { accepted: true, error: undefined };
        } catch (err) {
          if (!(err instanceof SieError)) throw err;
          logger.info({ run: request.run?.runId, err: err.toPayload() }, 'run refused');
          return { accepted: false, error: err.toPayload() };
        }
      },
      (err) => ({ accepted: false, error: toErrorPayload(err) }),
    ),
    bus.serve(
      controlSubject(nodeId, 'ingest', 'stop'),
      StopRunRequest,
      StopRunResponse,
      async (request) => {
        try {
          if (!/^[A-Za-z0-9_-]{1,128}$/.test(request.runId)) {
            throw new InvalidArgumentError('not a valid run id', 'runId');
          }
          const stopped = await manager.stop(
            request.runId,
            request.generation,
            request.reason || 'stop command',
          );
          return { stopped, error: undefined };
        } catch (err) {
          if (!(err instanceof SieError)) throw err;
          logger.info({ run: request.runId, err: err.toPayload() }, 'stop refused');
          return { stopped: false, error: err.toPayload() };
        }
      },
      (err) => ({ stopped: false, error: toErrorPayload(err) }),
    ),
    serveStagePing(bus, nodeId, 'ingest', () => ({
      runIds: manager.runIds(),
      capacity: manager.capacityLeft(),
      capacityFps: o.capacityFps ?? 0,
    })),
  ];
  return {
    close: () => {
      for (const sub of subs) sub.unsubscribe();
    },
  };
}
