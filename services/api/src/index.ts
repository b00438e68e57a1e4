export { apiConfigSchema } from './config.js';
export type { ApiConfig } from './config.js';
export { detectionsToJson } from './detection-json.js';
