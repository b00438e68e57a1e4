import { SourceUnreachableError } from '@sie/errors';
import { resolveOnvifStream } from '@sie/onvif';
import { parseSourceUrl, redactUrl, type OpenableSource, type ParsedSource } from './source-url.js';

export interface ResolveSourceOptions {
  /** Bounds each ONVIF request. */
  timeoutMs?: number;
}

/**
 * What ffmpeg opens for this source: itself, or for ONVIF the camera's RTSP stream as its Media
 * service names it now (callers resolve again on every reconnect: cameras change URIs on reboot).
 * The camera's answer is checked like a client's URL and must be RTSP: a camera cannot make sie
 * read a local file or another protocol.
 */
export async function resolveSource(
  source: ParsedSource,
  options: ResolveSourceOptions = {},
): Promise<OpenableSource> {
  if (source.kind !== 'onvif') return source;
  const credentials =
    source.username === undefined
      ? undefined
      : { username: source.username, password: source.password ?? '' };
  const resolved = await resolveOnvifStream(
    { host: source.host, port: source.port, ...(credentials ? { credentials } : {}) },
    {
      ...(source.profile === undefined ? {} : { profile: source.profile }),
      timeoutMs: options.timeoutMs,
    },
  );
  let rtsp: ParsedSource;
  try {
    rtsp = parseSourceUrl(resolved.uri);
  } catch (err) {
    throw new SourceUnreachableError(
      `${redactUrl(source.url)}: the camera's stream URI is not usable (${(err as Error).message})`,
      redactUrl(source.url),
      { cause: err },
    );
  }
  if (rtsp.kind !== 'rtsp') {
    throw new SourceUnreachableError(
      `${redactUrl(source.url)}: the camera's stream URI ${redactUrl(resolved.uri)} is not RTSP`,
      redactUrl(source.url),
    );
  }
  return rtsp;
}
