export { BASE_ENV_ALIASES, baseConfigShape, natsConfigShape } from './base-config.js';
export type { BaseConfig } from './base-config.js';
export { loadServiceConfig } from './load-service-config.js';
export type { ServiceConfigOptions } from './load-service-config.js';
export { runService } from './run-service.js';
export { serveStagePing } from './stage-ping.js';
export type { StagePresenceStatus } from './stage-ping.js';
export { StageRunHost } from './stage-run-host.js';
export type { StageRunHooks, StageRunHostOptions } from './stage-run-host.js';
export type {
  HealthCheck,
  RunningService,
  ServiceContext,
  ServiceDefinition,
} from './run-service.js';
