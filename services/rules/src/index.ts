export { rulesConfigSchema } from './config.js';
export type { RulesConfig } from './config.js';
