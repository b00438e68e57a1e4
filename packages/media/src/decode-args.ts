import type { ParsedSource } from './source-url.js';

export interface DecodeOptions {
  /** Size of every output frame; the scaler always runs so the size is guaranteed. */
  width: number;
  height: number;
  /** Frames per second to keep; 0 or absent keeps every decoded frame. */
  sampleFps?: number;
  /** File sources: pace reading at the file's frame rate, as a camera would. */
  realtime?: boolean;
  /** File sources: start again at the end, forever. */
  loop?: boolean;
  /** RTSP transport; TCP by default (no packet loss through NAT or busy links). */
  rtspTransport?: 'tcp' | 'udp';
  /** Network sources: a socket that stays silent this long fails the read (ffmpeg exits). */
  socketTimeoutMs?: number;
  /** Decoder threads; absent lets ffmpeg choose. */
  threads?: number;
  /** Stop after this much output (ffmpeg `-t`); absent decodes to the end. */
  maxDurationMs?: number;
}

export interface DecodeArgs {
  /** What ffmpeg opens (`-i`). */
  input: string;
  /** Options placed before `-i`. */
  inputOptions: string[];
  /** Options placed after `-i`, before the output (stdout). */
  outputOptions: string[];
}

export const DEFAULT_SOCKET_TIMEOUT_MS = 10_000;

/** Bytes of one BGR24 frame. */
export function frameBytes(width: number, height: number): number {
  return width * height * 3;
}

/**
 * The ffmpeg arguments that decode `source` into raw BGR24 frames of exactly width × height on
 * stdout. Pure: the same source and options always give the same arguments.
 */
export function buildDecodeArgs(source: ParsedSource, options: DecodeOptions): DecodeArgs {
  if (!isPositiveInt(options.width) || !isPositiveInt(options.height)) {
    throw new RangeError(`bad frame size ${options.width}x${options.height}`);
  }
  const inputOptions = ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'error'];
  if (options.threads !== undefined && options.threads > 0) {
    inputOptions.push('-threads', String(options.threads));
  }
  inputOptions.push(...sourceInputOptions(source, options));

  const filters: string[] = [];
  const sampleFps = options.sampleFps ?? 0;
  // Drop unwanted frames first, then scale while still in the decoder's (smaller) pixel format:
  // converting to BGR24 after scaling is much cheaper than scaling BGR24.
  if (sampleFps > 0) filters.push(`fps=${formatNumber(sampleFps)}`);
  filters.push(`scale=${options.width}:${options.height}`);

  const outputOptions = ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', filters.join(',')];
  // rawvideo would otherwise duplicate or drop frames to fake a constant rate: keep them as decoded.
  outputOptions.push('-fps_mode', 'passthrough');
  if (options.maxDurationMs !== undefined && options.maxDurationMs > 0) {
    outputOptions.push('-t', formatNumber(options.maxDurationMs / 1000));
  }
  outputOptions.push('-pix_fmt', 'bgr24', '-f', 'rawvideo');
  return { input: source.input, inputOptions, outputOptions };
}

/** Options that open the source (also used when probing it). */
export function sourceInputOptions(
  source: ParsedSource,
  options: Pick<DecodeOptions, 'realtime' | 'loop' | 'rtspTransport' | 'socketTimeoutMs'>,
): string[] {
  if (source.kind === 'file') {
    const out = ['-protocol_whitelist', 'file'];
    if (options.realtime) out.push('-re');
    if (options.loop) out.push('-stream_loop', '-1');
    return out;
  }
  const timeoutUs = Math.round((options.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS) * 1000);
  const protocols = ['rtsp', 'rtp', 'tcp', 'udp'];
  if (source.scheme === 'rtsps') protocols.push('tls');
  return [
    '-rtsp_transport',
    options.rtspTransport ?? 'tcp',
    // ffmpeg ≥ 5 calls the RTSP socket timeout `-timeout` (µs); it was `-stimeout` before.
    '-timeout',
    String(timeoutUs),
    '-protocol_whitelist',
    protocols.join(','),
  ];
}

/** The whole command line after `ffmpeg`, writing frames to stdout (for logs and tests). */
export function decodeArgv(args: DecodeArgs): string[] {
  return [...args.inputOptions, '-i', args.input, ...args.outputOptions, 'pipe:1'];
}

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

function formatNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
