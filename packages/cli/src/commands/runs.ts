import { flag, positionals, positiveNumberOpt, requiredOpt, stringOpt } from '../args.js';
import type { CommandGroup } from '../command.js';
import { dash, formatTime } from '../output.js';

interface Reason {
  code: string;
  message: string;
}

export interface RunJson {
  id: string;
  pipelineId: string;
  pipelineVersion: number;
  status: string;
  desiredState: string;
  reason: Reason | null;
  source: { url: string; loop: boolean; realtime: boolean; rtspTransport: string };
  output: { path: string; rtspUrl: string };
  nodeId: string | null;
  attempts: number;
  restarts: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  live?: {
    fpsIn: number;
    fpsOut: number;
    latencyMs: { p50: number; p99: number };
    dropped: number;
    updatedAt: string;
  } | null;
}

const reasonText = (r: Reason | null): string => (r ? `${r.code}: ${r.message}` : '-');

export const runsGroup: CommandGroup = {
  name: 'runs',
  summary: 'runs of a pipeline on a source: create, list, show, stop',
  commands: [
    {
      name: 'list',
      summary: "The tenant's runs, newest first",
      args: '[--state <s>]',
      options: {
        state: {
          type: 'string',
          value: '<s>',
          description: 'Only runs in this state (several comma-separated), e.g. active,failed',
        },
        limit: { type: 'string', value: '<n>', description: 'Runs to show (default 50, max 200)' },
      },
      async run({ client, out, json, usage }, args) {
        positionals(args, [], usage);
        const limit = positiveNumberOpt(args, 'limit', usage);
        const page = await client.get<{ items: RunJson[]; nextCursor: string | null }>('/v1/runs', {
          status: stringOpt(args, 'state'),
          limit: limit === undefined ? undefined : String(limit),
        });
        if (json) return out.document(page);
        out.table(
          ['ID', 'STATE', 'PIPELINE', 'NODE', 'SOURCE', 'CREATED', 'REASON'],
          page.items.map((r) => [
            r.id,
            r.status,
            r.pipelineId,
            dash(r.nodeId),
            r.source.url,
            formatTime(r.createdAt),
            r.reason?.code ?? '-',
          ]),
          'no runs',
        );
        if (page.nextCursor) out.note('(more runs than shown: raise --limit, up to 200)');
      },
    },
    {
      name: 'create',
      summary: 'Enqueue a run of a pipeline on a source (a scheduler places it on a node)',
      args: '--pipeline <id> --source <url> [--name <path>]',
      options: {
        pipeline: { type: 'string', value: '<id>', description: 'The pipeline to run' },
        source: {
          type: 'string',
          value: '<url>',
          description: 'rtsp://, rtsps://, file:// or an absolute file path',
        },
        name: {
          type: 'string',
          value: '<path>',
          description: 'Name of the annotated output (its RTSP path; default: the run id)',
        },
        loop: { type: 'boolean', description: 'File sources: start again at the end' },
        'no-realtime': {
          type: 'boolean',
          description: 'File sources: read as fast as inference allows (every frame)',
        },
        udp: { type: 'boolean', description: 'RTSP sources: UDP transport (default TCP)' },
      },
      async run({ client, out, json, usage }, args) {
        positionals(args, [], usage);
        const name = stringOpt(args, 'name');
        const created = await client.post<{
          id: string;
          status: string;
          output: { path: string; rtspUrl: string };
        }>('/v1/runs', {
          pipelineId: requiredOpt(args, 'pipeline', usage),
          source: {
            url: requiredOpt(args, 'source', usage),
            ...(flag(args, 'loop') ? { loop: true } : {}),
            ...(flag(args, 'no-realtime') ? { realtime: false } : {}),
            ...(flag(args, 'udp') ? { rtspTransport: 'udp' } : {}),
          },
          output: name === undefined ? {} : { path: name },
        });
        if (json) return out.document(created);
        out.line(`run ${created.id} created: ${created.status}`);
        out.line(`output: ${created.output.rtspUrl}`);
        out.line(`follow it with: sie runs show ${created.id}`);
      },
    },
    {
      name: 'show',
      summary: 'One run: state, reason, node, live fps/latency/drops, output RTSP URL',
      args: '<id>',
      options: {},
      async run({ client, out, json, usage }, args) {
        const [id = ''] = positionals(args, ['<id>'], usage);
        const run = await client.get<RunJson>(`/v1/runs/${encodeURIComponent(id)}`);
        if (json) return out.document(run);
        const live = run.live;
        const rows: [string, string][] = [
          ['id', run.id],
          ['state', `${run.status}${run.desiredState === 'stopped' ? ' (stop requested)' : ''}`],
          ['reason', reasonText(run.reason)],
          ['pipeline', `${run.pipelineId} (version ${run.pipelineVersion})`],
          ['source', run.source.url],
          ['node', dash(run.nodeId)],
          ['output', run.output.rtspUrl],
          [
            'live',
            live
              ? `${live.fpsIn} fps in, ${live.fpsOut} fps out, latency p50 ${live.latencyMs.p50} ms ` +
                `p99 ${live.latencyMs.p99} ms, ${live.dropped} dropped (${formatTime(live.updatedAt)})`
              : '-',
          ],
          ['attempts', `${run.attempts} (restarts ${run.restarts})`],
          ['created', formatTime(run.createdAt)],
          ['started', formatTime(run.startedAt)],
          ['ended', formatTime(run.endedAt)],
        ];
        const width = Math.max(...rows.map(([k]) => k.length));
        for (const [k, v] of rows) out.line(`${`${k}:`.padEnd(width + 2)}${v}`);
      },
    },
    {
      name: 'stop',
      summary: 'Ask a run to stop',
      args: '<id>',
      options: {},
      async run({ client, out, json, usage }, args) {
        const [id = ''] = positionals(args, ['<id>'], usage);
        const stopped = await client.post<{ id: string; status: string; desiredState: string }>(
          `/v1/runs/${encodeURIComponent(id)}/stop`,
        );
        if (json) return out.document(stopped);
        out.line(`run ${stopped.id} stopping: ${stopped.status}`);
      },
    },
  ],
};
