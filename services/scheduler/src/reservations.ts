/**
 * Placements of this scheduler in flight, per node (run → expected fps), that admission control
 * counts until the database shows them. A reservation ended by a placement is kept `keepMs`
 * longer, for placements that read the fleet before that one was committed.
 */
export class Reservations {
  private readonly nodes = new Map<string, Map<string, { fps: number; releasedAt?: number }>>();

  constructor(
    private readonly clock: () => number,
    private readonly keepMs = 5000,
  ) {}

  reserve(nodeId: string, runId: string, fps: number): void {
    let mine = this.nodes.get(nodeId);
    if (!mine) this.nodes.set(nodeId, (mine = new Map()));
    mine.set(runId, { fps });
  }

  /** Ends a reservation: `placed` keeps it `keepMs` more; otherwise it goes at once. */
  release(nodeId: string, runId: string, placed: boolean): void {
    const r = this.nodes.get(nodeId)?.get(runId);
    if (!r) return;
    if (placed) r.releasedAt = this.clock();
    else this.nodes.get(nodeId)?.delete(runId);
  }

  /** The node's reservations that still count (run → fps). */
  inFlight(nodeId: string): Map<string, number> {
    const out = new Map<string, number>();
    const now = this.clock();
    const mine = this.nodes.get(nodeId);
    for (const [runId, r] of mine ?? []) {
      if (r.releasedAt === undefined || now - r.releasedAt < this.keepMs) out.set(runId, r.fps);
      else mine?.delete(runId);
    }
    return out;
  }
}
