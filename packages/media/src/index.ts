export {
  DEFAULT_SOCKET_TIMEOUT_MS,
  buildDecodeArgs,
  decodeArgv,
  frameBytes,
  sourceInputOptions,
} from './decode-args.js';
export type { DecodeArgs, DecodeOptions } from './decode-args.js';
export { buildDualDecodeArgs, dualDecodeArgv, letterboxGeometry } from './letterbox-args.js';
export type { DualDecodeArgs, LetterboxGeometry, ModelFrameOptions } from './letterbox-args.js';
export { buildEncodeArgv, buildJpegStreamArgv } from './encode-args.js';
export type { EncodeOptions, H264Encoder, JpegEncodeOptions } from './encode-args.js';
export { FfmpegProcess, startDecoder } from './decoder.js';
export type { DecoderExit, DecoderOptions, ModelFrameOutput } from './decoder.js';
export { classifyFfmpegFailure, ffmpegErrorReason } from './ffmpeg-errors.js';
export { FrameSplitter } from './frame-splitter.js';
export type { FrameHandler } from './frame-splitter.js';
export { describeVideo, parseRate, probeSource } from './probe.js';
export type { ProbeOptions, ProbeResult } from './probe.js';
export { resolveSource } from './resolve.js';
export type { ResolveSourceOptions } from './resolve.js';
export { parseSourceUrl, redactUrl } from './source-url.js';
export type {
  FileSource,
  HlsSource,
  HttpSource,
  OnvifSource,
  OpenableSource,
  ParseSourceOptions,
  ParsedSource,
  RtspSource,
  V4l2Source,
} from './source-url.js';
