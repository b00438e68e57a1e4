import { flag, positionals, positiveNumberOpt } from '../args.js';
import type { CommandGroup } from '../command.js';
import { TimeoutError } from '@sie/errors';
import { formatTime } from '../output.js';

interface NodeJson {
  nodeId: string;
  state: 'ready' | 'draining' | 'drained' | 'offline';
  runs: number;
  capacityFps: number;
  lastSeenAt: string;
}

const nodePath = (id: string, verb: string): string =>
  `/v1/nodes/${encodeURIComponent(id)}/${verb}`;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

export const nodesGroup: CommandGroup = {
  name: 'nodes',
  aliases: ['node'],
  summary: 'nodes of the cluster: list, drain (move their runs away), resume',
  commands: [
    {
      name: 'list',
      summary: 'Every node the scheduler knows, with its state and runs',
      args: '',
      options: {},
      async run({ client, out, json, usage }, args) {
        positionals(args, [], usage);
        const list = await client.get<{ items: NodeJson[] }>('/v1/nodes');
        if (json) return out.document(list);
        out.table(
          ['NODE', 'STATE', 'RUNS', 'CAPACITY FPS', 'LAST SEEN'],
          list.items.map((n) => [
            n.nodeId,
            n.state,
            String(n.runs),
            String(n.capacityFps),
            formatTime(n.lastSeenAt),
          ]),
          'no nodes',
        );
      },
    },
    {
      name: 'drain',
      summary: 'Stop placing runs on a node and move its runs elsewhere',
      args: '<node> [--wait]',
      options: {
        wait: { type: 'boolean', description: 'Wait until the node has no runs left' },
        timeout: {
          type: 'string',
          value: '<s>',
          description: 'With --wait: give up after this many seconds (default 600)',
        },
      },
      async run({ client, out, json, signal, usage }, args) {
        const [nodeId = ''] = positionals(args, ['<node>'], usage);
        const timeoutS = positiveNumberOpt(args, 'timeout', usage) ?? 600;
        const drained = await client.post<{ nodeId: string; state: string; runs: number }>(
          nodePath(nodeId, 'drain'),
        );
        if (!json)
          out.line(`node ${drained.nodeId} ${drained.state}: ${drained.runs} run(s) on it`);
        if (!flag(args, 'wait') || drained.runs === 0) {
          if (json) out.document(drained);
          return;
        }
        const deadline = Date.now() + timeoutS * 1000;
        let last = drained.runs;
        while (!signal.aborted) {
          await sleep(1000, signal);
          const list = await client.get<{ items: NodeJson[] }>('/v1/nodes');
          const node = list.items.find((n) => n.nodeId === nodeId);
          const runs = node?.runs ?? 0;
          if (runs === 0) {
            if (json) out.document(node ?? { ...drained, runs: 0 });
            else out.line(`node ${nodeId} has no runs left (${node?.state ?? 'gone'})`);
            return;
          }
          if (runs !== last && !json) out.note(`${runs} run(s) left on ${nodeId}`);
          last = runs;
          if (Date.now() > deadline)
            throw new TimeoutError(`draining node ${nodeId}`, timeoutS * 1000);
        }
      },
    },
    {
      name: 'resume',
      summary: 'Let a drained node take runs again',
      args: '<node>',
      options: {},
      async run({ client, out, json, usage }, args) {
        const [nodeId = ''] = positionals(args, ['<node>'], usage);
        const res = await client.post<Record<string, unknown>>(nodePath(nodeId, 'resume'));
        if (json) return out.document({ nodeId, ...res });
        out.line(`node ${nodeId} resumed${typeof res.state === 'string' ? `: ${res.state}` : ''}`);
      },
    },
  ],
};
