export { RunEngine } from './run-engine.js';
export type { EngineOptions } from './run-engine.js';
export { parseRulesJson } from './parse.js';
export type {
  EngineEvent,
  EngineFrame,
  EngineOutput,
  EngineSnapshot,
  LineState,
  RuleConfig,
  RuleKind,
  RulesConfig,
  ZoneState,
} from './types.js';
export { defaultTrackerOptions } from './tracker/options.js';
export type { TrackerOptions } from './tracker/options.js';
export { pointInPolygon, referencePoint, signedDistance } from './geometry.js';
