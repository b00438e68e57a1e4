import type { Bus } from '@sie/bus';
import { nodes, runsOnNodes, type Db, type NodeRow } from '@sie/db';
import { NotFoundError } from '@sie/errors';
import { expectedRunFps } from '@sie/pipeline';
import { eq, sql } from 'drizzle-orm';
import type { RouteContext } from '../context.js';
import { RequestInvalidError } from '../errors.js';
import { errorSchema } from '../http/error-schema.js';
import { addRoute } from '../http/route.js';
import { NodePresence, type NodeSeen } from './presence.js';
import {
  nodeDrainJsonSchema,
  nodeJsonSchema,
  nodeListJsonSchema,
  type NodeJson,
} from './schema.js';

const TAG = 'nodes';
const NODE_ID = /^[A-Za-z0-9_-]{1,128}$/;
const OPERATOR_NOTE =
  'Nodes are not tenant-scoped: they belong to the operator, and `x-sie-tenant` is ignored. ';

/**
 * Operator routes over the fleet: nodes as they announce themselves on NATS, their state in the
 * `nodes` table (drain, resume) and the runs placed on them.
 */
export function registerNodeRoutes(ctx: RouteContext, bus: Bus): void {
  const { app, catalog, db } = ctx;
  const presence = new NodePresence();
  presence.start(bus);
  app.addHook('onClose', async () => presence.stop());
  const badId = { description: 'Not a valid node id (invalid_argument)', schema: errorSchema };
  const notFound = {
    description: 'No node by that id has announced itself or been drained (not_found)',
    schema: errorSchema,
  };

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/nodes',
      operationId: 'listNodes',
      summary: 'Every known node: state, runs, capacity and expected load in fps, last seen',
      description:
        OPERATOR_NOTE +
        'A node is known once a stage of it announced itself to this API, or an operator acted on it.',
      tag: TAG,
      responses: { 200: { description: 'The nodes, by id', schema: nodeListJsonSchema } },
    },
    async () => ({ items: await listNodes(db, presence) }),
  );

  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/nodes/:nodeId',
      operationId: 'getNode',
      summary: 'One node',
      description: OPERATOR_NOTE,
      tag: TAG,
      responses: {
        200: { description: 'The node', schema: nodeJsonSchema },
        400: badId,
        404: notFound,
      },
    },
    async (_req, _reply, { params }) => findNode(db, presence, nodeIdOf(params)),
  );

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/nodes/:nodeId/drain',
      operationId: 'drainNode',
      summary: 'Drain a node: no new runs, its runs move to other nodes, then it is `drained`',
      description:
        OPERATOR_NOTE +
        'Schedulers move each running run make-before-break (the new node starts it, its first ' +
        'frame arrives, then the old node stops it): its RTSP output pauses for a few seconds, ' +
        'its rule events go on without loss or repeat. A run no other node has capacity for ' +
        'stays where it is and the drain waits (see `message`). Once the node holds no run its ' +
        'state is `drained` and it may be stopped. Draining a drained node changes nothing.',
      tag: TAG,
      responses: {
        202: { description: 'The drain is under way', schema: nodeDrainJsonSchema },
        400: badId,
        404: notFound,
      },
    },
    async (_req, reply, { params }) => {
      const nodeId = nodeIdOf(params);
      await findNode(db, presence, nodeId);
      await db
        .insert(nodes)
        .values({ nodeId, state: 'draining' })
        .onConflictDoUpdate({
          target: nodes.nodeId,
          set: {
            state: sql`case when ${nodes.state} = 'drained' then 'drained' else 'draining' end`,
            updatedAt: sql`now()`,
          },
        });
      const node = await findNode(db, presence, nodeId);
      reply.code(202);
      return { nodeId, state: node.state, runs: node.runs };
    },
  );

  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/nodes/:nodeId/resume',
      operationId: 'resumeNode',
      summary: 'Resume a drained (or draining) node: it takes runs again',
      description:
        OPERATOR_NOTE + 'A drain in progress stops; runs already moved stay where they are.',
      tag: TAG,
      responses: {
        200: { description: 'The node', schema: nodeJsonSchema },
        400: badId,
        404: notFound,
      },
    },
    async (_req, _reply, { params }) => {
      const nodeId = nodeIdOf(params);
      await findNode(db, presence, nodeId);
      await db
        .insert(nodes)
        .values({ nodeId, state: 'ready' })
        .onConflictDoUpdate({
          target: nodes.nodeId,
          set: { state: 'ready', message: null, updatedAt: sql`now()` },
        });
      return findNode(db, presence, nodeId);
    },
  );
}

function nodeIdOf(params: Record<string, string>): string {
  const id = params.nodeId ?? '';
  if (!NODE_ID.test(id)) {
    throw new RequestInvalidError([
      { path: 'nodeId', message: 'letters, digits, _ and - only (1-128 characters)' },
    ]);
  }
  return id;
}

interface Usage {
  runs: number;
  usedFps: number;
}

async function usageByNode(db: Db, nodeId?: string): Promise<Map<string, Usage>> {
  const out = new Map<string, Usage>();
  for (const r of await runsOnNodes(db, nodeId)) {
    const u = out.get(r.nodeId) ?? { runs: 0, usedFps: 0 };
    u.runs += 1;
    u.usedFps += expectedRunFps(r.pipelineConfig);
    out.set(r.nodeId, u);
  }
  return out;
}

function toJson(
  nodeId: string,
  row: NodeRow | undefined,
  seen: NodeSeen | undefined,
  usage: Usage | undefined,
): NodeJson {
  const adminState = row?.state ?? 'ready';
  return {
    nodeId,
    state: seen?.online ? adminState : 'offline',
    adminState,
    runs: usage?.runs ?? 0,
    capacityFps: row?.capacityFps ?? seen?.capacityFps ?? 0,
    usedFps: Math.round((usage?.usedFps ?? 0) * 100) / 100,
    lastSeenAt: seen ? new Date(seen.lastSeenAt).toISOString() : null,
    message: row?.message ?? null,
  };
}

async function listNodes(db: Db, presence: NodePresence): Promise<NodeJson[]> {
  const [rows, usage] = await Promise.all([db.select().from(nodes), usageByNode(db)]);
  const byId = new Map(rows.map((r) => [r.nodeId, r]));
  const ids = new Set([...presence.nodeIds(), ...byId.keys(), ...usage.keys()]);
  return [...ids].sort().map((id) => toJson(id, byId.get(id), presence.get(id), usage.get(id)));
}

async function findNode(db: Db, presence: NodePresence, nodeId: string): Promise<NodeJson> {
  const [[row], usage] = await Promise.all([
    db.select().from(nodes).where(eq(nodes.nodeId, nodeId)),
    usageByNode(db, nodeId),
  ]);
  const seen = presence.get(nodeId);
  if (!row && !seen && !usage.has(nodeId)) throw new NotFoundError('node', nodeId);
  return toJson(nodeId, row, seen, usage.get(nodeId));
}
