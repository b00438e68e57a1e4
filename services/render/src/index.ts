export { renderConfigSchema } from './config.js';
export type { RenderConfig } from './config.js';
