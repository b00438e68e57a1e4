/** H.264 encoders the render service can drive. */
export type H264Encoder = 'libx264' | 'h264_nvenc';

export interface EncodeOptions {
  /** Size of every raw BGR24 frame written to ffmpeg's stdin (and of the output). */
  width: number;
  height: number;
  /**
   * Nominal frame rate. Frames are stamped with the wall-clock time ffmpeg reads them (variable
   * frame rate): each goes out when it is ready, not on a fixed grid.
   */
  fps: number;
  encoder: H264Encoder;
  /** Frames between two keyframes (GOP length). */
  gopFrames: number;
  /** Where the stream goes, e.g. rtsp://127.0.0.1:8554/run-1 (ANNOUNCE/RECORD). */
  outputUrl: string;
  rtspTransport?: 'tcp' | 'udp';
  /** Target bitrate; absent lets the encoder choose its quality-based default. */
  bitrateKbps?: number;
}

/**
 * The ffmpeg command line (after `ffmpeg`) that encodes raw BGR24 frames from stdin, stamped as
 * they arrive, into low-latency H.264 and publishes it over RTSP. Pure: same options, same
 * arguments.
 */
export function buildEncodeArgv(options: EncodeOptions): string[] {
  const { width, height, fps, gopFrames } = options;
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw new RangeError(`bad frame size ${width}x${height}`);
  }
  if (!(fps > 0 && fps <= 240)) throw new RangeError(`bad output fps ${fps}`);
  if (!isPositiveInt(gopFrames)) throw new RangeError(`bad GOP length ${gopFrames}`);
  const argv = [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    // Timestamps from the wall clock at read, kept as they are (no duplicating or dropping to a
    // constant rate): render decides when a frame goes out.
    '-use_wallclock_as_timestamps',
    '1',
    ...rawInputArgs(width, height, fps),
    '-an',
    '-c:v',
    options.encoder,
  ];
  if (options.encoder === 'libx264') {
    argv.push('-preset', 'ultrafast', '-tune', 'zerolatency');
  } else {
    // NVENC's fastest preset with its low-latency tuning, no B-frames, no lookahead.
    argv.push('-preset', 'p1', '-tune', 'll', '-zerolatency', '1', '-rc-lookahead', '0');
  }
  argv.push('-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(gopFrames));
  argv.push('-keyint_min', String(gopFrames));
  if (options.bitrateKbps !== undefined && options.bitrateKbps > 0) {
    const k = Math.round(options.bitrateKbps);
    argv.push('-b:v', `${k}k`, '-maxrate', `${k}k`, '-bufsize', `${k * 2}k`);
  }
  argv.push('-fps_mode', 'passthrough');
  argv.push('-f', 'rtsp', '-rtsp_transport', options.rtspTransport ?? 'tcp', options.outputUrl);
  return argv;
}

export interface JpegEncodeOptions {
  width: number;
  height: number;
  fps: number;
  /** mjpeg -q:v, 2 (best) to 31 (worst). */
  quality: number;
}

/**
 * The ffmpeg command line that turns raw BGR24 frames on stdin into a stream of JPEG images on
 * stdout (one complete JPEG per frame, back to back), for MJPEG previews.
 */
export function buildJpegStreamArgv(options: JpegEncodeOptions): string[] {
  const { width, height, fps } = options;
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw new RangeError(`bad frame size ${width}x${height}`);
  }
  if (!(fps > 0 && fps <= 240)) throw new RangeError(`bad preview fps ${fps}`);
  const q = Math.min(31, Math.max(2, Math.round(options.quality)));
  return [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    ...rawInputArgs(width, height, fps),
    '-an',
    '-c:v',
    'mjpeg',
    '-q:v',
    String(q),
    // Full-range YUV is what JPEG viewers expect.
    '-pix_fmt',
    'yuvj420p',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}

function rawInputArgs(width: number, height: number, fps: number): string[] {
  return [
    '-f',
    'rawvideo',
    '-pix_fmt',
    'bgr24',
    '-s',
    `${width}x${height}`,
    '-framerate',
    formatNumber(fps),
    '-i',
    'pipe:0',
  ];
}

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

function formatNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
