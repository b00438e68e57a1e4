export { rulesConfigSchema, loadRulesConfig } from './config.js';
export type { RulesConfig } from './config.js';
