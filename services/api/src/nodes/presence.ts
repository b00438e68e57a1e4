import { allNodeStatusSubject, type Bus, type Subscription } from '@sie/bus';
import { NodeStatus } from '@sie/contracts';

/** What the API last heard from a node's stage services (`sie.node.<node>.<stage>`). */
export interface NodeSeen {
  nodeId: string;
  /** Wall-clock ms of the newest announcement of any of its stages. */
  lastSeenAt: number;
  /** Whether some stage announced within three of its own intervals. */
  online: boolean;
  /** The capacity its ingest announces (0: not stated). */
  capacityFps: number;
  /** Runs its ingest holds. */
  runIds: string[];
}

interface StageSeen {
  status: NodeStatus;
  at: number;
}

/**
 * Node presence as the schedulers see it: every stage service announces itself every few
 * seconds, and a node none of whose stages announced for three intervals is offline.
 */
export class NodePresence {
  private readonly nodes = new Map<string, Map<string, StageSeen>>();
  private sub: Subscription | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  start(bus: Bus): void {
    this.sub = bus.subscribe(allNodeStatusSubject(), NodeStatus, (s) => this.record(s));
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  record(status: NodeStatus): void {
    let stages = this.nodes.get(status.nodeId);
    if (!stages) this.nodes.set(status.nodeId, (stages = new Map()));
    stages.set(status.stage, { status, at: this.now() });
  }

  get(nodeId: string): NodeSeen | undefined {
    const stages = this.nodes.get(nodeId);
    if (!stages) return undefined;
    const now = this.now();
    let lastSeenAt = 0;
    let online = false;
    for (const { status, at } of stages.values()) {
      lastSeenAt = Math.max(lastSeenAt, at);
      if (now - at <= 3 * (status.announceIntervalMs || 2000)) online = true;
    }
    const ingest = stages.get('ingest')?.status;
    return {
      nodeId,
      lastSeenAt,
      online,
      capacityFps: ingest?.capacityFps ?? 0,
      runIds: ingest?.runIds ?? [],
    };
  }

  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }
}
