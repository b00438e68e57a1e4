import { stat } from 'node:fs/promises';
import {
  InternalError,
  SourceInvalidError,
  SourceUnreachableError,
  type SieError,
} from '@sie/errors';
import ffmpeg from 'fluent-ffmpeg';
import { DEFAULT_SOCKET_TIMEOUT_MS, sourceInputOptions } from './decode-args.js';
import { classifyFfmpegFailure } from './ffmpeg-errors.js';
import { resolveSource } from './resolve.js';
import { parseSourceUrl, redactUrl, type ParsedSource } from './source-url.js';

export interface ProbeResult {
  /** ffmpeg's name of the video codec, e.g. `h264`, `msmpeg4v3`. */
  codec: string;
  /** Displayed size (rotation applied, as ffmpeg's decoder will output it). */
  width: number;
  height: number;
  /** Frame rate; 0 when the source does not say. */
  fps: number;
  /** Length of a file; absent for live sources. */
  durationMs?: number;
  /** For ONVIF: the RTSP stream the camera named (password redacted). */
  resolvedUrl?: string;
}

export interface ProbeOptions {
  rtspTransport?: 'tcp' | 'udp';
  /** Overrides the ffprobe binary (else FFPROBE_PATH or the PATH). */
  ffprobePath?: string;
}

type Stream = ffmpeg.FfprobeStream;

// ffmpeg happily "decodes" text files as ASCII-art video (the tty demuxer); they are not videos.
const TEXT_FORMATS = new Set(['tty']);
const TEXT_CODECS = new Set(['ansi', 'bintext', 'xbin', 'idf']);

/**
 * Opens a source with ffprobe and describes its first video stream. A source that cannot be
 * opened (missing file, camera refusing or silent) is a SourceUnreachableError; one that opens but
 * holds no decodable video is a SourceInvalidError ("not a video: …").
 */
export async function probeSource(
  source: ParsedSource | string,
  timeoutMs: number,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const parsed = typeof source === 'string' ? parseSourceUrl(source) : source;
  if (parsed.kind === 'file') await checkRegularFile(parsed.path, parsed.url);
  if (parsed.kind === 'v4l2') await checkDevice(parsed.device, parsed.url);
  const src = await resolveSource(parsed, { timeoutMs: Math.min(timeoutMs, 5000) });

  const args = [
    '-v',
    'error',
    ...sourceInputOptions(src, {
      rtspTransport: options.rtspTransport,
      socketTimeoutMs: Math.min(timeoutMs, DEFAULT_SOCKET_TIMEOUT_MS),
    }),
  ];
  const data = await new Promise<ffmpeg.FfprobeData>((resolve, reject) => {
    // ffprobe has its own socket timeout; this one bounds the whole probe (slow handshakes too).
    const timer = setTimeout(() => {
      reject(
        new SourceUnreachableError(
          `cannot open ${redactUrl(src.url)}: probe timed out after ${timeoutMs} ms`,
          redactUrl(src.url),
        ),
      );
    }, timeoutMs);
    const done = (err: unknown, result: ffmpeg.FfprobeData): void => {
      clearTimeout(timer);
      if (err) reject(probeFailure(err, src));
      else resolve(result);
    };
    if (options.ffprobePath) {
      ffmpeg(src.input).setFfprobePath(options.ffprobePath).ffprobe(args, done);
    } else {
      ffmpeg.ffprobe(src.input, args, done);
    }
  });
  const result = describeVideo(data, src);
  if (parsed.kind === 'onvif') result.resolvedUrl = redactUrl(src.url);
  return result;
}

async function checkDevice(device: string, url: string): Promise<void> {
  try {
    const info = await stat(device);
    if (info.isCharacterDevice()) return;
  } catch (err) {
    throw new SourceUnreachableError(`cannot open ${url}: no such device`, url, { cause: err });
  }
  throw new SourceInvalidError(`${url}: ${device} is not a capture device`, url);
}

async function checkRegularFile(path: string, url: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'No such file or directory'
        : code === 'EACCES'
          ? 'Permission denied'
          : (err as Error).message;
    throw new SourceUnreachableError(`cannot open ${url}: ${reason}`, url, { cause: err });
  }
  // Devices and FIFOs would make ffmpeg read forever or block; only plain files are videos here.
  if (!info.isFile())
    throw new SourceInvalidError(`not a video: ${url} is not a regular file`, url);
}

function probeFailure(err: unknown, src: ParsedSource): SieError {
  const text = err instanceof Error ? err.message : String(err);
  // A missing ffprobe is this machine's fault, not the source's: say so instead of "not a video".
  if (/cannot find ffprobe|spawn \S*ffprobe/i.test(text)) {
    return new InternalError(`ffprobe is not available: ${text}`, { cause: err });
  }
  return classifyFfmpegFailure(text, src);
}

/** Picks the first video stream of ffprobe's answer (pure; exported for tests). */
export function describeVideo(data: ffmpeg.FfprobeData, src: ParsedSource): ProbeResult {
  const video = data.streams.find(
    (s) => s.codec_type === 'video' && !isAttachedPicture(s) && (s.width ?? 0) > 0,
  );
  if (!video) {
    const kinds = data.streams.map((s) => s.codec_type ?? 'unknown').join(', ') || 'none';
    throw new SourceInvalidError(
      `not a video: no video stream (streams: ${kinds})`,
      redactUrl(src.url),
    );
  }
  const format = data.format.format_name ?? '';
  if (TEXT_FORMATS.has(format) || TEXT_CODECS.has(video.codec_name ?? '')) {
    throw new SourceInvalidError(
      `not a video: text (ffmpeg reads it as ${video.codec_long_name ?? 'ASCII art'})`,
      redactUrl(src.url),
    );
  }
  const rotated = Math.abs(rotationOf(video)) % 180 === 90;
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  const durationS = parseNumber(video.duration) ?? parseNumber(data.format.duration);
  const result: ProbeResult = {
    codec: video.codec_name ?? 'unknown',
    width: rotated ? height : width,
    height: rotated ? width : height,
    fps: parseRate(video.avg_frame_rate) || parseRate(video.r_frame_rate),
  };
  if (src.kind === 'file' && durationS !== undefined && durationS > 0) {
    result.durationMs = Math.round(durationS * 1000);
  }
  return result;
}

function isAttachedPicture(s: Stream): boolean {
  return (s.disposition as { attached_pic?: number } | undefined)?.attached_pic === 1;
}

function rotationOf(s: Stream): number {
  const tags = (s as { tags?: Record<string, unknown> }).tags;
  const fromTag = parseNumber(tags?.rotate);
  if (fromTag !== undefined) return fromTag;
  const side = (s as { side_data_list?: { rotation?: unknown }[] }).side_data_list ?? [];
  for (const entry of side) {
    const r = parseNumber(entry.rotation);
    if (r !== undefined) return r;
  }
  return 0;
}

/** "30000/1001" → 29.97; "0/0" or garbage → 0. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  if (num === undefined || !Number.isFinite(num)) return 0;
  if (den === undefined) return num > 0 ? num : 0;
  return den > 0 && num > 0 ? num / den : 0;
}

function parseNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
