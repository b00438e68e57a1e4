/**
 * Frames per second a run is expected to take of a node when its pipeline sets no cap
 * (`sampleFps` 0): a typical camera's rate. Admission control counts it for every such run.
 */
export const DEFAULT_RUN_FPS = 25;

/**
 * The frames per second a run will take of its node's capacity: the pipeline's `sampleFps` cap
 * when it sets one, else DEFAULT_RUN_FPS. Takes the stored pipeline config as it is (a config
 * that does not parse still holds a node's place at the default rate).
 */
export function expectedRunFps(pipelineConfig: unknown): number {
  const cap =
    pipelineConfig && typeof pipelineConfig === 'object'
      ? (pipelineConfig as { sampleFps?: unknown }).sampleFps
      : undefined;
  return typeof cap === 'number' && Number.isFinite(cap) && cap > 0 ? cap : DEFAULT_RUN_FPS;
}
