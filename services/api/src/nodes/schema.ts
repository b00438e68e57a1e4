import { NODE_STATES } from '@sie/db';
import { z } from 'zod';

/** What GET /v1/nodes reports as a node's state: the operator's, or `offline`. */
export const NODE_VIEW_STATES = [...NODE_STATES, 'offline'] as const;

export const nodeJsonSchema = z.object({
  nodeId: z.string(),
  /**
   * `ready` takes runs; `draining` takes none and has its runs moved to other nodes; `drained`
   * holds none and may be stopped; `offline`: no stage of it announced itself lately.
   */
  state: z.enum(NODE_VIEW_STATES),
  /** The operator's state whatever the node's presence (`offline` hides it in `state`). */
  adminState: z.enum(NODE_STATES),
  /** Runs placed on the node (placed, running, or being stopped there). */
  runs: z.number().int(),
  /** Frames per second it can take (the operator's override, else its announced figure; 0: not stated). */
  capacityFps: z.number(),
  /** Expected frames per second of its runs (admission control adds these up). */
  usedFps: z.number(),
  /** When a stage of it last announced itself (ISO 8601); null: not since this API started. */
  lastSeenAt: z.string().nullable(),
  /** What the scheduler says about a drain in progress (why it waits), else null. */
  message: z.string().nullable(),
});

export const nodeListJsonSchema = z.object({ items: z.array(nodeJsonSchema) });

export const nodeDrainJsonSchema = z.object({
  nodeId: z.string(),
  state: z.enum(NODE_VIEW_STATES),
  runs: z.number().int(),
});

export type NodeJson = z.infer<typeof nodeJsonSchema>;
