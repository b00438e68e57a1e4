import { Counter, Gauge, type Registry } from '@sie/telemetry';

/** Every metric the scheduler exports (`/metrics` on its ops port). */
export class SchedulerMetrics {
  readonly runs: Gauge<'status'>;
  readonly transitions: Counter<'to' | 'reason'>;
  readonly claims: Counter<'kind'>;
  readonly restarts: Counter;
  readonly adoptions: Counter;
  readonly outboxLag: Gauge;
  readonly outboxPublished: Counter;
  readonly nodes: Gauge;
  readonly commandFailures: Counter<'stage' | 'verb'>;
  readonly dbErrors: Counter<'op'>;
  readonly staleWrites: Counter;
  readonly modelLoads: Counter<'outcome'>;
  readonly nodeCapacityFps: Gauge<'node_id'>;
  readonly nodeUsedFps: Gauge<'node_id'>;
  readonly queued: Counter<'reason'>;
  readonly moves: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.runs = new Gauge({
      name: 'sie_scheduler_runs',
      help: 'Runs in the runs table, per status',
      labelNames: ['status'],
      registers,
    });
    this.transitions = new Counter({
      name: 'sie_scheduler_transitions_total',
      help: 'Run transitions this scheduler made, per target state and reason',
      labelNames: ['to', 'reason'],
      registers,
    });
    this.claims = new Counter({
      name: 'sie_scheduler_claims_total',
      help: 'Runs claimed (leased) by this scheduler, per kind of work',
      labelNames: ['kind'],
      registers,
    });
    this.restarts = new Counter({
      name: 'sie_scheduler_restarts_total',
      help: 'Runs restarted because a stage went silent past its lease',
      registers,
    });
    this.adoptions = new Counter({
      name: 'sie_scheduler_adoptions_total',
      help: 'Runs taken over from a scheduler that stopped renewing their lease, stages alive',
      registers,
    });
    this.outboxLag = new Gauge({
      name: 'sie_scheduler_outbox_lag',
      help: 'Outbox rows not yet published',
      registers,
    });
    this.outboxPublished = new Counter({
      name: 'sie_scheduler_outbox_published_total',
      help: 'Outbox rows this scheduler published to JetStream',
      registers,
    });
    this.nodes = new Gauge({
      name: 'sie_scheduler_nodes',
      help: 'Nodes with at least one stage service announcing itself',
      registers,
    });
    this.commandFailures = new Counter({
      name: 'sie_scheduler_command_failures_total',
      help: 'Commands to node stages that were refused or not answered',
      labelNames: ['stage', 'verb'],
      registers,
    });
    this.dbErrors = new Counter({
      name: 'sie_scheduler_db_errors_total',
      help: 'Database operations that failed',
      labelNames: ['op'],
      registers,
    });
    this.staleWrites = new Counter({
      name: 'sie_scheduler_stale_writes_total',
      help: 'Writes refused because the run changed under this scheduler (compare-and-set lost)',
      registers,
    });
    this.modelLoads = new Counter({
      name: 'sie_scheduler_model_loads_total',
      help: "LoadModel calls before a run's start, per outcome (ok or the error code)",
      labelNames: ['outcome'],
      registers,
    });
    this.nodeCapacityFps = new Gauge({
      name: 'sie_scheduler_node_capacity_fps',
      help: "A node's capacity in frames per second (announced by its ingest, or the operator's override)",
      // Not `node`: every metric carries the host's `node` label already.
      labelNames: ['node_id'],
      registers,
    });
    this.nodeUsedFps = new Gauge({
      name: 'sie_scheduler_node_used_fps',
      help: 'Expected frames per second of the runs placed on a node (admission control adds these up)',
      // Not `node`: every metric carries the host's `node` label already.
      labelNames: ['node_id'],
      registers,
    });
    this.queued = new Counter({
      name: 'sie_scheduler_runs_queued_total',
      help: 'Placements that left a run queued, per reason (no_capacity: every node would go past its fps capacity; no_node: no node with a free place)',
      labelNames: ['reason'],
      registers,
    });
    this.moves = new Counter({
      name: 'sie_scheduler_run_moves_total',
      help: 'Runs moved off a draining node (make-before-break), per outcome',
      labelNames: ['outcome'],
      registers,
    });
  }
}
