export { loadConfig, validate } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { envNameFor } from './schema-walk.js';
