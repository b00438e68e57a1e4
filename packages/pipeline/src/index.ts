export {
  RULE_KINDS,
  idSchema,
  lineSchema,
  pipelineConfigSchema,
  retryPolicySchema,
  ruleSchema,
  runOutputSchema,
  runSourceSchema,
  styleSchema,
  zoneSchema,
} from './schema.js';
export type { PipelineConfig, RetryPolicyConfig, RunOutput, RunSource } from './schema.js';
export { toPipelineSpec, toSourceSpec } from './wire.js';
