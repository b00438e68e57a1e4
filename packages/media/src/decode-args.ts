import { redactUrl, type ParsedSource } from './source-url.js';

export interface DecodeOptions {
  /** Size of every output frame; the scaler always runs so the size is guaranteed. */
  width: number;
  height: number;
  /** Frames per second to keep; 0 or absent keeps every decoded frame. */
  sampleFps?: number;
  /** File and HTTP sources: pace reading at the stream's frame rate, as a camera would. */
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
  const timeoutUs = String(
    Math.round((options.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS) * 1000),
  );
  // Every kind gets the protocols it needs and no others: a playlist, a redirect or a nested
  // URL can then never reach `file:`, `concat:`, `subfile:`, `pipe:` and the like.
  switch (source.kind) {
    case 'file': {
      const out = ['-protocol_whitelist', 'file'];
      if (options.realtime) out.push('-re');
      if (options.loop) out.push('-stream_loop', '-1');
      return out;
    }
    case 'rtsp': {
      const protocols = ['rtsp', 'rtp', 'tcp', 'udp'];
      if (source.scheme === 'rtsps') protocols.push('tls');
      return [
        '-rtsp_transport',
        options.rtspTransport ?? 'tcp',
        // ffmpeg ≥ 5 calls the RTSP socket timeout `-timeout` (µs); it was `-stimeout` before.
        '-timeout',
        timeoutUs,
        '-protocol_whitelist',
        protocols.join(','),
      ];
    }
    case 'http': {
      // http may redirect to https, so tls is allowed for both; -rw_timeout bounds a silent server.
      const out = ['-rw_timeout', timeoutUs, '-protocol_whitelist', 'http,https,tcp,tls'];
      if (options.realtime) out.push('-re');
      return out;
    }
    case 'hls':
      // The hls demuxer opens every segment with this whitelist: a playlist naming file: or an
      // absolute local path (resolved against the playlist's http URL) can never read the disk.
      return [
        '-rw_timeout',
        timeoutUs,
        '-protocol_whitelist',
        'http,https,tcp,tls,crypto',
        '-f',
        'hls',
      ];
    case 'v4l2': {
      const out = ['-protocol_whitelist', 'file', '-f', 'v4l2'];
      if (source.width !== undefined && source.height !== undefined) {
        out.push('-video_size', `${source.width}x${source.height}`);
      }
      if (source.fps !== undefined) out.push('-framerate', formatNumber(source.fps));
      if (source.pixelFormat !== undefined) out.push('-input_format', source.pixelFormat);
      return out;
    }
    case 'onvif':
      throw new Error(
        `${redactUrl(source.url)}: an ONVIF source must be resolved (resolveSource) before ffmpeg opens it`,
      );
  }
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
