import { modelMetadataSchema } from '@sie/models';
import type { z } from 'zod';
import { modelJsonSchema, modelListJsonSchema, modelUploadedJsonSchema } from '../models/json.js';
import {
  pipelineBodySchema,
  pipelineJsonSchema,
  pipelineListJsonSchema,
} from '../pipelines/schema.js';
import { predictJsonSchema } from '../predict/schema.js';
import { probeBodySchema, probeJsonSchema } from '../probe/routes.js';
import {
  createRunSchema,
  runCreatedJsonSchema,
  runJsonSchema,
  runListJsonSchema,
  stopJsonSchema,
  transitionListJsonSchema,
} from '../runs/schema.js';
import { nodeDrainJsonSchema, nodeJsonSchema, nodeListJsonSchema } from '../nodes/schema.js';
import type { SchemaNames } from './document.js';
import { healthJsonSchema } from '../ops/schema.js';

/** The component names of the OpenAPI document. */
export const SCHEMA_NAMES: SchemaNames = new Map<z.ZodType, string>([
  [modelMetadataSchema, 'ModelMetadata'],
  [modelJsonSchema, 'Model'],
  [modelUploadedJsonSchema, 'ModelUploaded'],
  [modelListJsonSchema, 'ModelList'],
  [nodeJsonSchema, 'Node'],
  [nodeListJsonSchema, 'NodeList'],
  [nodeDrainJsonSchema, 'NodeDrain'],
  [pipelineBodySchema, 'PipelineRequest'],
  [pipelineJsonSchema, 'Pipeline'],
  [pipelineListJsonSchema, 'PipelineList'],
  [createRunSchema, 'RunRequest'],
  [runCreatedJsonSchema, 'RunCreated'],
  [runJsonSchema, 'Run'],
  [runListJsonSchema, 'RunList'],
  [transitionListJsonSchema, 'RunTransitionList'],
  [stopJsonSchema, 'RunStopped'],
  [predictJsonSchema, 'Prediction'],
  [probeBodySchema, 'ProbeRequest'],
  [probeJsonSchema, 'ProbeResult'],
  [healthJsonSchema, 'Health'],
]);
