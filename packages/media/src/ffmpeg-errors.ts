import { SourceInvalidError, SourceUnreachableError, type SieError } from '@sie/errors';
import { redactUrl, type ParsedSource } from './source-url.js';

// Reasons that mean "the source is not there (yet)": worth retrying.
const UNREACHABLE = [
  /no such file or directory/i,
  /connection refused/i,
  /connection timed out/i,
  /timed out/i,
  /network is unreachable/i,
  /no route to host/i,
  /host is unreachable/i,
  /name or service not known/i,
  /temporary failure in name resolution/i,
  /failed to resolve hostname/i,
  /connection reset by peer/i,
  /broken pipe/i,
  /permission denied/i,
  /server returned (4|5)\d\d/i,
];

// Reasons that mean "this is not a video sie can decode": retrying cannot help.
const INVALID = [
  /invalid data found when processing input/i,
  /not a video/i,
  /could not find codec parameters/i,
  /unknown input format/i,
  /decoder .* not found/i,
  /unsupported codec/i,
  /no video stream/i,
];

/**
 * The most telling line of ffmpeg/ffprobe stderr, without the `<url>: ` prefix ffmpeg puts in
 * front of it, e.g. "No such file or directory" or "Connection refused".
 */
export function ffmpegErrorReason(stderr: string, source?: ParsedSource): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^ff(mpeg|probe) (exited|was killed)/.test(l));
  const last = lines[lines.length - 1];
  if (last === undefined) return 'no error output';
  let reason = last;
  for (const prefix of source ? [source.input, source.url, 'file:' + source.url] : []) {
    if (reason.startsWith(`${prefix}: `)) reason = reason.slice(prefix.length + 2);
  }
  // Log lines look like `[tcp @ 0x55…] Connection … failed: Connection refused`; keep the message.
  reason = reason.replace(/^\[[^\]]*\]\s*/, '');
  return redactUrl(reason).slice(0, 500);
}

/**
 * Turns an ffmpeg/ffprobe failure into a SieError: `source_invalid` when the input exists but is
 * not a video, `source_unreachable` otherwise (files that cannot be opened, cameras that refuse).
 */
export function classifyFfmpegFailure(stderr: string, source: ParsedSource): SieError {
  const reason = ffmpegErrorReason(stderr, source);
  const url = redactUrl(source.url);
  // A playlist or redirect tried to reach a protocol this kind of source may not use (decode-args'
  // whitelist stopped it): say so, not "invalid data", the demuxer's later complaint.
  const refused =
    /Protocol '([^']+)' not on whitelist/.exec(stderr)?.[1] ??
    // The hls demuxer itself refuses segments of protocols other than http/file/crypto.
    /Error when loading first segment '(?!https?:)([a-z][a-z0-9+.-]*):/i.exec(stderr)?.[1];
  if (refused) {
    return new SourceInvalidError(
      `refused: ${url} tries to open "${refused}:", which ${source.kind} sources may not use`,
      url,
    );
  }
  if (INVALID.some((re) => re.test(reason))) {
    return new SourceInvalidError(`not a video: ${reason}`, url);
  }
  if (UNREACHABLE.some((re) => re.test(reason)) || source.kind !== 'file') {
    return new SourceUnreachableError(`cannot open ${url}: ${reason}`, url);
  }
  // A local file that opens but fails in an unknown way is most likely not a usable video.
  return new SourceInvalidError(`not a video: ${reason}`, url);
}
