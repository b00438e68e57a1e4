export {
  RULE_KINDS,
  idSchema,
  lineSchema,
  pipelineConfigSchema,
  pipelineRulesSchema,
  retryPolicySchema,
  ruleSchema,
  runOutputSchema,
  runSourceSchema,
  styleSchema,
  zoneSchema,
} from './schema.js';
export type {
  PipelineConfig,
  PipelineRules,
  RetryPolicyConfig,
  RunOutput,
  RunSource,
} from './schema.js';
export { cross, polygonArea2, polygonDefect, segmentsIntersect } from './geometry.js';
export type { Point } from './geometry.js';
export { ZONE_RULE_KINDS, ruleParamSchemas } from './rule-params.js';
export type { RuleParamSchemas, RuleParams } from './rule-params.js';
export { toPipelineSpec, toSourceSpec } from './wire.js';
export { DEFAULT_RUN_FPS, expectedRunFps } from './capacity.js';
export {
  absoluteDirSchema,
  captureDestinationSchema,
  captureSchema,
  isUnderRoot,
  localDestinationSchema,
  s3DestinationSchema,
  snapshotsSchema,
} from './media-outputs.js';
export type { CaptureConfig, CaptureDestinationConfig, SnapshotsConfig } from './media-outputs.js';
