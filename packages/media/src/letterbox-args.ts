import { sourceInputOptions, type DecodeOptions } from './decode-args.js';
import type { ParsedSource } from './source-url.js';

/** The network input ffmpeg letterboxes each frame into, next to the output-size frame. */
export interface ModelFrameOptions {
  width: number;
  height: number;
  /** `top-left` (YOLOX: sizes rounded down) or `center` (Ultralytics: rounded, padding split). */
  placement: 'top-left' | 'center';
  /** Padding, 0-255 on every channel (YOLOX: 114). */
  padValue: number;
}

/** Where the resized image sits in the model frame, and its scale (as the engine's letterbox). */
export interface LetterboxGeometry {
  /** Model pixels per output-frame pixel. */
  ratio: number;
  resizedWidth: number;
  resizedHeight: number;
  padX: number;
  padY: number;
}

export interface DualDecodeArgs {
  input: string;
  inputOptions: string[];
  /** `-filter_complex` graph: `[out]` at the output size, `[model]` letterboxed. */
  filterComplex: string;
  /** Output options of the output-size frames, written to `pipe:1`. */
  frameOutput: string[];
  /** Output options of the letterboxed model frames, written to `pipe:3`. */
  modelOutput: string[];
  geometry: LetterboxGeometry;
}

/**
 * The letterbox of an output frame of `width` × `height` into the model input, computed as the
 * engine's `planLetterbox` does (so boxes map back with the same ratio and offsets).
 */
export function letterboxGeometry(
  width: number,
  height: number,
  model: Pick<ModelFrameOptions, 'width' | 'height' | 'placement'>,
): LetterboxGeometry {
  const ratio = Math.min(model.width / width, model.height / height);
  const size = model.placement === 'center' ? Math.round : Math.floor;
  const resizedWidth = Math.min(model.width, Math.max(1, size(width * ratio)));
  const resizedHeight = Math.min(model.height, Math.max(1, size(height * ratio)));
  const center = model.placement === 'center';
  return {
    ratio,
    resizedWidth,
    resizedHeight,
    padX: center ? Math.floor((model.width - resizedWidth) / 2) : 0,
    padY: center ? Math.floor((model.height - resizedHeight) / 2) : 0,
  };
}

/**
 * ffmpeg arguments that decode `source` once and write two raw BGR24 streams: the output-size
 * frame (for drawing and encoding) on stdout and the model-size letterboxed frame on fd 3, so the
 * inference worker only converts HWC bytes to CHW floats. Both branches scale in the decoder's
 * pixel format (cheaper than scaling BGR24); the model branch pads after converting to BGR24 so
 * the padding is exactly `padValue`. Pure. The input options are `buildDecodeArgs`' own.
 */
export function buildDualDecodeArgs(
  source: ParsedSource,
  options: DecodeOptions,
  model: ModelFrameOptions,
): DualDecodeArgs {
  for (const [w, h] of [
    [options.width, options.height],
    [model.width, model.height],
  ] as const) {
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
      throw new RangeError(`bad frame size ${w}x${h}`);
    }
  }
  if (!(model.padValue >= 0 && model.padValue <= 255)) {
    throw new RangeError(`pad value ${model.padValue} is not within 0..255`);
  }
  const inputOptions = ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'error'];
  if (options.threads !== undefined && options.threads > 0) {
    inputOptions.push('-threads', String(options.threads));
  }
  inputOptions.push(...sourceInputOptions(source, options));
  const g = letterboxGeometry(options.width, options.height, model);
  const pad = Math.round(model.padValue).toString(16).padStart(2, '0');
  const sampleFps = options.sampleFps ?? 0;
  const head = sampleFps > 0 ? `[0:v:0]fps=${round3(sampleFps)},` : '[0:v:0]';
  const filterComplex =
    `${head}split=2[o][m];` +
    `[o]scale=${options.width}:${options.height},format=bgr24[out];` +
    `[m]scale=${g.resizedWidth}:${g.resizedHeight},format=bgr24,` +
    `pad=${model.width}:${model.height}:${g.padX}:${g.padY}:color=0x${pad}${pad}${pad}[model]`;
  const tail = ['-fps_mode', 'passthrough'];
  if (options.maxDurationMs !== undefined && options.maxDurationMs > 0) {
    tail.push('-t', round3(options.maxDurationMs / 1000));
  }
  tail.push('-pix_fmt', 'bgr24', '-f', 'rawvideo');
  return {
    input: source.input,
    inputOptions,
    filterComplex,
    frameOutput: ['-map', '[out]', ...tail],
    modelOutput: ['-map', '[model]', ...tail],
    geometry: g,
  };
}

/** The whole command line after `ffmpeg`: output frames on pipe:1, model frames on pipe:3. */
export function dualDecodeArgv(args: DualDecodeArgs): string[] {
  return [
    ...args.inputOptions,
    '-i',
    args.input,
    '-filter_complex',
    args.filterComplex,
    ...args.frameOutput,
    'pipe:1',
    ...args.modelOutput,
    'pipe:3',
  ];
}

function round3(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
