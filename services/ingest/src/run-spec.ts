import type { RunSpec, StartRunRequest } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import { parseSourceUrl, type ParsedSource } from '@sie/media';
import { resolveRetryPolicy, type RetrySettings } from './retry.js';

/** A RunSpec that passed validation, in the shape the run needs. */
export interface IngestRunSpec {
  runId: string;
  tenantId: string;
  generation: number;
  modelId: string;
  scoreThreshold: number;
  classes: string[];
  /** 0 keeps the source rate. */
  sampleFps: number;
  /** Requested frame size; 0 × 0 keeps the source size. */
  outputWidth: number;
  outputHeight: number;
  source: ParsedSource;
  /** Latest-frame-wins (cameras, paced files) instead of processing every frame. */
  realtime: boolean;
  loop: boolean;
  rtspTransport: 'tcp' | 'udp';
  retry: RetrySettings;
}

export interface ValidateOptions {
  mediaRoot?: string;
  /** V4L2 capture devices are refused unless the node allows them. */
  allowDevices?: boolean;
  retryDefaults: RetrySettings;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const LIVE_KINDS = new Set<ParsedSource['kind']>(['rtsp', 'onvif', 'v4l2']);
const MODEL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_SIDE = 8192;

/**
 * Checks everything a start command carries before any work begins, so a bad request is refused
 * in the reply (with the offending field) instead of failing later as a run.
 */
export function validateStartRequest(
  request: StartRunRequest,
  options: ValidateOptions,
): IngestRunSpec {
  const run = request.run;
  if (!run) throw new InvalidArgumentError('the start command carries no run', 'run');
  return validateRunSpec(run, options);
}

export function validateRunSpec(run: RunSpec, options: ValidateOptions): IngestRunSpec {
  const bad = (field: string, message: string): never => {
    throw new InvalidArgumentError(message, field);
  };
  if (!ID.test(run.runId))
    bad('run.runId', `run id ${JSON.stringify(run.runId)} is not a valid id`);
  if (!ID.test(run.tenantId)) {
    bad('run.tenantId', `tenant id ${JSON.stringify(run.tenantId)} is not a valid id`);
  }
  if (!Number.isSafeInteger(run.generation) || run.generation < 0) {
    bad('run.generation', 'generation must be a non-negative integer');
  }
  const pipeline = run.pipeline ?? bad('run.pipeline', 'the run has no pipeline');
  if (!MODEL_ID.test(pipeline.modelId)) {
    bad('run.pipeline.modelId', `model id ${JSON.stringify(pipeline.modelId)} is not a valid id`);
  }
  if (!(pipeline.scoreThreshold >= 0 && pipeline.scoreThreshold <= 1)) {
    bad('run.pipeline.scoreThreshold', 'score threshold must be within 0..1');
  }
  if (pipeline.classes.length > 1000 || pipeline.classes.some((c) => !c || c.length > 128)) {
    bad('run.pipeline.classes', 'classes must be at most 1000 non-empty names of ≤ 128 chars');
  }
  if (!(pipeline.sampleFps >= 0 && pipeline.sampleFps <= 240)) {
    bad('run.pipeline.sampleFps', 'sample fps must be within 0..240');
  }
  const { outputWidth: w, outputHeight: h } = pipeline;
  if ((w === 0) !== (h === 0) || w > MAX_SIDE || h > MAX_SIDE) {
    bad('run.pipeline.outputWidth', `output size must be both 0 or both 1..${MAX_SIDE}`);
  }
  const sourceSpec = run.source ?? bad('run.source', 'the run has no source');
  // Throws SourceInvalidError naming why (scheme, traversal, media root …).
  const source = parseSourceUrl(sourceSpec.url, {
    mediaRoot: options.mediaRoot,
    allowDevices: options.allowDevices,
  });
  const transport = sourceSpec.rtspTransport || 'tcp';
  if (transport !== 'tcp' && transport !== 'udp') {
    bad('run.source.rtspTransport', 'rtsp transport must be "tcp" or "udp"');
  }
  const retry = resolveRetryPolicy(options.retryDefaults, pipeline.retry);
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    generation: run.generation,
    modelId: pipeline.modelId,
    scoreThreshold: pipeline.scoreThreshold,
    classes: [...pipeline.classes],
    sampleFps: pipeline.sampleFps,
    outputWidth: w,
    outputHeight: h,
    source,
    // A camera is live whatever the flag says: waiting for every frame would only build latency.
    // HTTP and HLS may be live or a file on a server: the flag says which.
    realtime: LIVE_KINDS.has(source.kind) || sourceSpec.realtime,
    loop: source.kind === 'file' && sourceSpec.loop,
    rtspTransport: transport as 'tcp' | 'udp',
    retry,
  };
}
