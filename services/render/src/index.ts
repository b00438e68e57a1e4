export { renderConfigSchema, loadRenderConfig } from './config.js';
export type { RenderConfig } from './config.js';
export {
  blendRect,
  drawLabel,
  drawLine,
  drawPolyline,
  drawText,
  fillRect,
  resizeNearest,
  strokeRect,
  textWidth,
} from './draw.js';
export type { Raster, Rgb } from './draw.js';
export { DEFAULT_STYLE, SLATE_BACKGROUND, classColor, drawShapes, makeSlate } from './overlay.js';
export type { DrawStyle } from './overlay.js';
export { RenderMetrics } from './metrics.js';
export { JpegSplitter } from './preview.js';
export {
  RenderRun,
  estimateSourceFps,
  outputFpsOf,
  outputUrlOf,
  pinnedFpsOf,
  styleOf,
} from './render-run.js';
export { RenderService } from './service.js';
