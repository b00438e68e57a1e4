import type { Pipeline } from '@sie/db';
import { idSchema, pipelineConfigSchema } from '@sie/pipeline';
import { z } from 'zod';

/** POST and PUT bodies: a PUT replaces the whole pipeline (and bumps its version). */
export const pipelineBodySchema = z.strictObject({
  name: z.string().min(1).max(200),
  modelId: idSchema,
  config: pipelineConfigSchema.prefault({}),
});

export type PipelineBody = z.output<typeof pipelineBodySchema>;

export const pipelineJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  modelId: z.string(),
  config: pipelineConfigSchema,
  /** Bumped by every PUT; a run records the version it started with. */
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const pipelineListJsonSchema = z.object({ items: z.array(pipelineJsonSchema) });

export type PipelineJson = z.output<typeof pipelineJsonSchema>;

export function pipelineToJson(p: Pipeline): PipelineJson {
  return {
    id: p.id,
    name: p.name,
    modelId: p.modelId,
    config: p.config as PipelineJson['config'],
    version: p.version,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
