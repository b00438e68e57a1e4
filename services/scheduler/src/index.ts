export { schedulerConfigSchema } from './config.js';
export type { SchedulerConfig } from './config.js';
