import { positionals, requiredOpt } from '../args.js';
import type { CommandGroup } from '../command.js';
import { ApiRequestError, InputFileError } from '../errors.js';
import { formatTime } from '../output.js';
import { changedPaths, readPipelineFile } from '../pipeline-file.js';

interface PipelineJson {
  id: string;
  name: string;
  modelId: string;
  config: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'unset';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const valueAt = (root: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (node, key) =>
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[key]
          : undefined,
      root,
    );

export const pipelinesGroup: CommandGroup = {
  name: 'pipelines',
  summary: 'pipelines (a model plus the configuration runs execute): list and apply',
  commands: [
    {
      name: 'list',
      summary: "The tenant's pipelines, newest first",
      args: '',
      options: {},
      async run({ client, out, json, usage }, args) {
        positionals(args, [], usage);
        const list = await client.get<{ items: PipelineJson[] }>('/v1/pipelines');
        if (json) return out.document(list);
        out.table(
          ['ID', 'NAME', 'MODEL', 'VERSION', 'RULES', 'UPDATED'],
          list.items.map((p) => [
            p.id,
            p.name,
            p.modelId,
            String(p.version),
            String(Array.isArray(p.config.rules) ? p.config.rules.length : 0),
            formatTime(p.updatedAt),
          ]),
          'no pipelines',
        );
      },
    },
    {
      name: 'apply',
      summary: 'Create or update a pipeline from a YAML file (matched by its id, else by its name)',
      args: '-f <pipeline.yaml>',
      options: {
        file: { type: 'string', short: 'f', value: '<file>', description: 'The pipeline YAML' },
      },
      async run({ client, out, json, usage }, args) {
        positionals(args, [], usage);
        const spec = readPipelineFile(requiredOpt(args, 'file', usage));
        let existing: PipelineJson | undefined;
        if (spec.id) {
          existing = await client.get<PipelineJson>(`/v1/pipelines/${encodeURIComponent(spec.id)}`);
        } else if (typeof spec.body.name === 'string') {
          const list = await client.get<{ items: PipelineJson[] }>('/v1/pipelines');
          const named = list.items.filter((p) => p.name === spec.body.name);
          if (named.length > 1) {
            throw new InputFileError(
              spec.file,
              `${named.length} pipelines are named ${JSON.stringify(spec.body.name)} ` +
                `(${named.map((p) => p.id).join(', ')}): add the one to update as id:`,
            );
          }
          existing = named[0];
        }
        let result: PipelineJson;
        try {
          result = existing
            ? await client.put<PipelineJson>(`/v1/pipelines/${existing.id}`, spec.body)
            : await client.post<PipelineJson>('/v1/pipelines', spec.body);
        } catch (err) {
          // Field paths of the API are paths into this file: point at their lines.
          if (err instanceof ApiRequestError) {
            for (const issue of err.issues) {
              const where = spec.locate(issue.path);
              if (where) Object.assign(issue, { where });
            }
          }
          throw err;
        }
        const pick = (p: PipelineJson) => ({ name: p.name, modelId: p.modelId, config: p.config });
        const changed = existing ? changedPaths(pick(existing), pick(result)) : [];
        if (json) {
          return out.document({
            action: existing ? 'updated' : 'created',
            pipeline: result,
            ...(existing ? { changed, previousVersion: existing.version } : {}),
          });
        }
        if (!existing) {
          out.line(`pipeline ${result.id} created: ${result.name}, version ${result.version}`);
          return;
        }
        out.line(
          `pipeline ${result.id} updated: ${result.name}, version ${existing.version} → ${result.version}`,
        );
        if (changed.length === 0) out.line('  no changes');
        for (const path of changed) {
          out.line(
            `  ${path}: ${short(valueAt(pick(existing), path))} → ${short(valueAt(pick(result), path))}`,
          );
        }
      },
    },
  ],
};
