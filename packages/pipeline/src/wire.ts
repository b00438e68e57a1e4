import type { PipelineSpec, SourceSpec } from '@sie/contracts';
import type { PipelineConfig, RunSource } from './schema.js';

/** The wire form of a pipeline for the stages of a node (sie.v1.PipelineSpec). */
export function toPipelineSpec(modelId: string, config: PipelineConfig): PipelineSpec {
  const { zones, lines, rules, style } = config;
  return {
    modelId,
    scoreThreshold: config.scoreThreshold,
    classes: config.classes,
    sampleFps: config.sampleFps,
    outputWidth: config.outputWidth,
    outputHeight: config.outputHeight,
    outputFps: config.outputFps,
    retry: { ...config.retry },
    rulesJson: JSON.stringify({ zones, lines, rules, style }),
    // Absent when off, so stages and older nodes see nothing new for pipelines without them.
    snapshotsJson: config.snapshots.enabled ? JSON.stringify(config.snapshots) : '',
    captureJson: config.capture.enabled ? JSON.stringify(config.capture) : '',
  };
}

export function toSourceSpec(source: RunSource): SourceSpec {
  return {
    url: source.url,
    loop: source.loop,
    realtime: source.realtime,
    rtspTransport: source.rtspTransport,
  };
}
