import { positionals, positiveNumberOpt, stringOpt } from '../args.js';
import { errorOf } from '../client.js';
import type { CommandGroup } from '../command.js';
import { ApiRequestError, ApiUnreachableError, UsageError } from '../errors.js';
import { followSse } from '../sse.js';
import { sinceParam } from '../since.js';

interface EventJson {
  id: string;
  runId: string;
  ruleId: string;
  kind: string;
  captureTimeMs: number;
  frameSeq: number;
  message: string;
  counts: Record<string, number>;
}

/** Capture times are epoch milliseconds for live sources; small ones are media time. */
const when = (ms: number): string =>
  ms > 1e12 ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : `+${(ms / 1000).toFixed(1)}s`;

export const eventsGroup: CommandGroup = {
  name: 'events',
  summary: 'rule events: follow them live',
  commands: [
    {
      name: 'tail',
      summary: 'Follow rule events as they happen (reconnects and resumes where it stopped)',
      args: '[--run <id>] [--rule <id>] [--type <t>] [--since <iso|duration>]',
      options: {
        run: { type: 'string', value: '<id>', description: 'Only the events of this run' },
        rule: { type: 'string', value: '<id>', description: 'Only the events of this rule' },
        type: {
          type: 'string',
          value: '<t>',
          description: 'Only these kinds (comma-separated): line_cross, zone_enter, dwell, …',
        },
        since: {
          type: 'string',
          value: '<t>',
          description: 'Replay history first: an ISO time, a duration back (15m, 2h) or a sequence',
        },
        count: {
          type: 'string',
          value: '<n>',
          description: 'Exit after this many events (default: follow until Ctrl-C)',
        },
      },
      async run({ client, out, json, signal, usage }, args) {
        positionals(args, [], usage);
        const rawSince = stringOpt(args, 'since');
        const since = rawSince === undefined ? undefined : sinceParam(rawSince);
        if (rawSince !== undefined && since === undefined) {
          throw new UsageError(
            `--since must be an ISO time, a duration (15m) or a sequence`,
            usage,
          );
        }
        const count = positiveNumberOpt(args, 'count', usage);
        const run = stringOpt(args, 'run');
        const type = stringOpt(args, 'type');
        const kinds = type ? new Set(type.split(',').map((t) => t.trim())) : undefined;
        // A run's own stream when --run is given (it also checks the run's tenant); else the
        // tenant-wide one with the filters as query parameters.
        const path = run ? `/v1/runs/${encodeURIComponent(run)}/events` : '/v1/events';
        const query = run ? { since } : { since, ruleId: stringOpt(args, 'rule'), type };
        const rule = stringOpt(args, 'rule');
        let seen = 0;
        if (!json) out.note(`following events${run ? ` of run ${run}` : ''} (Ctrl-C to stop)`);
        await followSse({
          signal,
          open: async (lastEventId, sig) => {
            const res = await client.send('GET', path, {
              query,
              headers: {
                accept: 'text/event-stream',
                ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
              },
              signal: sig,
            });
            if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
              throw await errorOf(res);
            }
            return res;
          },
          onMessage(m) {
            if (m.event !== 'event') return false;
            const e = JSON.parse(m.data) as EventJson;
            // The run's own stream has no rule or kind filter: applied here.
            if (run && rule && e.ruleId !== rule) return false;
            if (run && kinds && !kinds.has(e.kind)) return false;
            if (json) out.jsonLine({ seq: Number(m.id), ...e });
            else {
              out.line(
                `${when(e.captureTimeMs)}  ${e.runId}  ${e.ruleId}  ${e.kind}  ${e.message}`,
              );
            }
            seen += 1;
            return count !== undefined && seen >= count;
          },
          onReconnect(reason, lastEventId) {
            out.note(
              `events stream dropped (${reason}); reconnecting${lastEventId ? ` after event ${lastEventId}` : ''}`,
            );
          },
          retryable: (err) =>
            err instanceof ApiUnreachableError ||
            (err instanceof ApiRequestError && err.status >= 500) ||
            !(err instanceof ApiRequestError),
        });
      },
    },
  ],
};
