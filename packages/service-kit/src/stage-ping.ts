import { controlSubject, type Bus, type StageName, type Subscription } from '@sie/bus';
import { NodePingRequest, NodeStatus } from '@sie/contracts';

/**
 * Answers `sie.ctl.<node>.<stage>.ping` with the runs this stage holds and its free capacity,
 * so the scheduler can see which node services are alive before placing a run.
 */
export function serveStagePing(
  bus: Bus,
  nodeId: string,
  stage: StageName,
  status: () => { runIds: string[]; capacity: number },
): Subscription {
  return bus.serve(
    controlSubject(nodeId, stage, 'ping'),
    NodePingRequest,
    NodeStatus,
    () => Promise.resolve({ nodeId, stage, ...status() }),
    () => ({ nodeId, stage, runIds: [], capacity: 0 }),
  );
}
