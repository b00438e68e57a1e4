import { controlSubject, nodeStatusSubject, type Bus, type StageName } from '@sie/bus';
import { NodePingRequest, NodeStatus } from '@sie/contracts';

export interface StagePresenceStatus {
  runIds: string[];
  /** Runs it can still take. */
  capacity: number;
  maxRuns?: number;
  /** Frames per second the node can process in all (0 or absent: not stated). */
  capacityFps?: number;
}

/**
 * Makes a stage service of a node visible to schedulers: it answers
 * `sie.ctl.<node>.<stage>.ping` and announces the same NodeStatus on `sie.node.<node>.<stage>`
 * every `announceIntervalMs`, so schedulers discover nodes and their free capacity without
 * polling, and notice a node that went silent.
 */
export function serveStagePing(
  bus: Bus,
  nodeId: string,
  stage: StageName,
  status: () => StagePresenceStatus,
  announceIntervalMs = 2000,
): { unsubscribe(): void } {
  const snapshot = (): NodeStatus => {
    const s = status();
    return {
      nodeId,
      stage,
      runIds: s.runIds,
      capacity: s.capacity,
      maxRuns: s.maxRuns ?? s.capacity + s.runIds.length,
      atMs: Date.now(),
      announceIntervalMs,
      capacityFps: s.capacityFps ?? 0,
    };
  };
  const sub = bus.serve(
    controlSubject(nodeId, stage, 'ping'),
    NodePingRequest,
    NodeStatus,
    () => Promise.resolve(snapshot()),
    () => ({ ...snapshot(), runIds: [], capacity: 0 }),
  );
  const announce = (): void =>
    bus.publish(nodeStatusSubject(nodeId, stage), NodeStatus, snapshot());
  announce();
  const timer = setInterval(announce, announceIntervalMs);
  timer.unref();
  return {
    unsubscribe: () => {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}
