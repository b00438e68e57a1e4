import { realpathSync } from 'node:fs';
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceInvalidError } from '@sie/errors';

/** A local video file, given to ffmpeg as `file:<path>` so no other protocol can be implied. */
export interface FileSource {
  kind: 'file';
  /** The URL as the client gave it. */
  url: string;
  /** Absolute, normalised path. */
  path: string;
  /** What ffmpeg/ffprobe open. */
  input: string;
}

/** A network camera or RTSP server. */
export interface RtspSource {
  kind: 'rtsp';
  url: string;
  scheme: 'rtsp' | 'rtsps';
  input: string;
}

/** Progressive video over HTTP(S): an MP4/MKV file, or a live MJPEG (multipart) stream. */
export interface HttpSource {
  kind: 'http';
  url: string;
  scheme: 'http' | 'https';
  input: string;
}

/** An HLS playlist (`.m3u8`, or any http(s) URL written as `hls+http(s)://`). */
export interface HlsSource {
  kind: 'hls';
  url: string;
  scheme: 'http' | 'https';
  input: string;
}

/** A local V4L2 capture device (webcam); only when the node allows devices. */
export interface V4l2Source {
  kind: 'v4l2';
  url: string;
  /** `/dev/videoN`. */
  device: string;
  input: string;
  width?: number;
  height?: number;
  fps?: number;
  /** ffmpeg's `-input_format` (yuyv422, mjpeg, h264 …). */
  pixelFormat?: string;
}

/**
 * An ONVIF camera: its RTSP stream URI is resolved through the Media service before every
 * connection (resolveSource); `input` is empty until then.
 */
export interface OnvifSource {
  kind: 'onvif';
  url: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Profile token or name; absent picks the first profile. */
  profile?: string;
  input: '';
}

export type ParsedSource =
  FileSource | RtspSource | HttpSource | HlsSource | V4l2Source | OnvifSource;

/** What ffmpeg can open directly (everything but ONVIF, which resolves to RTSP first). */
export type OpenableSource = Exclude<ParsedSource, OnvifSource>;

export interface ParseSourceOptions {
  /** When set, file sources must lie under this directory (symbolic links resolved). */
  mediaRoot?: string;
  /** V4L2 devices (`v4l2:///dev/video0`, or a bare index `0`); refused unless true. */
  allowDevices?: boolean;
}

const MAX_URL_LENGTH = 4096;
// Characters that have no business in a source URL and could confuse ffmpeg's own URL parsing.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Validates a client-supplied source URL and says exactly how ffmpeg should open it. Accepted:
 * local files (`file:///abs`, `/abs`, under the media root when one is set), RTSP(S), HTTP(S)
 * (progressive or MJPEG), HLS playlists, ONVIF cameras and, when allowed, V4L2 devices. ffmpeg's
 * other protocols (`concat:`, `subfile:`, `pipe:` …) can read arbitrary files, so they are refused;
 * decode-args also gives ffmpeg a protocol whitelist per kind so nothing can be reached indirectly.
 */
export function parseSourceUrl(url: string, options: ParseSourceOptions = {}): ParsedSource {
  const fail = (why: string): never => {
    throw new SourceInvalidError(`invalid source URL ${redactUrl(url)}: ${why}`, redactUrl(url));
  };
  if (typeof url !== 'string' || url.length === 0) return fail('it is empty');
  if (url.length > MAX_URL_LENGTH) return fail(`longer than ${MAX_URL_LENGTH} characters`);
  if (CONTROL_CHARS.test(url)) return fail('it contains control characters');
  if (url !== url.trim()) return fail('it has leading or trailing spaces');

  if (url.startsWith('/')) return fileSource(url, url, options, fail);
  // The seeds' webcam form: a bare device index.
  if (/^\d{1,2}$/.test(url)) return v4l2Source(url, `/dev/video${url}`, '', options, fail);

  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return fail('relative paths are not allowed; give an absolute path');
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      return fail(`not a local file URL (${(err as Error).message})`);
    }
    // The URL parser resolves `..` by itself; look at the raw text so traversal is refused, not hidden.
    const rawPath = safeDecode(url.slice('file://'.length)) ?? fail('bad percent-encoding');
    if (hasDotDot(rawPath)) return fail('".." path segments are not allowed');
    return fileSource(url, path, options, fail);
  }
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail('not a valid URL');
    }
    if (!parsed.hostname) return fail('it names no host');
    if (/\s/.test(url)) return fail('it contains spaces');
    refuseMetadataHost(parsed.hostname, fail);
    return { kind: 'rtsp', url, scheme, input: url };
  }
  if (scheme === 'http' || scheme === 'https' || scheme === 'hls+http' || scheme === 'hls+https') {
    const input = scheme.startsWith('hls+') ? url.slice('hls+'.length) : url;
    const parsed = networkUrl(input, fail);
    const plain = parsed.protocol === 'https:' ? 'https' : 'http';
    const hls = scheme.startsWith('hls+') || /\.m3u8$/i.test(parsed.pathname);
    return { kind: hls ? 'hls' : 'http', url, scheme: plain, input };
  }
  if (scheme === 'v4l2') {
    const rest = url.slice('v4l2://'.length);
    if (!url.toLowerCase().startsWith('v4l2://')) return fail('write v4l2:///dev/videoN');
    const [path = '', query = ''] = rest.split('?', 2);
    return v4l2Source(url, path, query, options, fail);
  }
  if (scheme === 'onvif') return onvifSource(url, fail);
  return fail(
    `scheme "${scheme}:" is not allowed (use file://, an absolute path, rtsp(s)://, http(s)://, onvif:// or v4l2://)`,
  );
}

function networkUrl(url: string, fail: (why: string) => never): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('not a valid URL');
  }
  if (!parsed.hostname) fail('it names no host');
  if (/\s/.test(url)) fail('it contains spaces');
  refuseMetadataHost(parsed.hostname, fail);
  return parsed;
}

/**
 * Cloud metadata services (AWS, GCP, Azure, Alibaba, ECS task roles): a source URL must not turn
 * the engine into a reader of its own machine's credentials. Only these well-known addresses, not
 * all of link-local: cameras without DHCP live on 169.254.0.0/16. (A DNS name of one's own that
 * resolves there is not caught here; network policy is the complete answer.)
 */
const METADATA_HOSTS = new Set([
  '169.254.169.254',
  '169.254.170.2',
  'fd00:ec2::254',
  '100.100.100.200',
  'metadata.google.internal',
  'metadata',
]);

function refuseMetadataHost(hostname: string, fail: (why: string) => never): void {
  const host = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');
  if (METADATA_HOSTS.has(host)) fail('cloud metadata service addresses are not allowed');
}

const PIXEL_FORMAT = /^[a-z0-9_]{1,24}$/;

function v4l2Source(
  url: string,
  device: string,
  query: string,
  options: ParseSourceOptions,
  fail: (why: string) => never,
): V4l2Source {
  if (!options.allowDevices) {
    fail('capture devices are disabled on this node (set allowDevices to use webcams)');
  }
  if (!/^\/dev\/video\d{1,2}$/.test(device)) fail('the device must be /dev/videoN');
  const source: V4l2Source = { kind: 'v4l2', url, device, input: device };
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === 'size') {
      const m = /^(\d{1,4})x(\d{1,4})$/.exec(value);
      if (!m) fail('size must be WIDTHxHEIGHT');
      source.width = Number(m?.[1]);
      source.height = Number(m?.[2]);
    } else if (key === 'fps') {
      const fps = Number(value);
      if (!(fps > 0 && fps <= 240)) fail('fps must be within 0..240');
      source.fps = fps;
    } else if (key === 'format') {
      if (!PIXEL_FORMAT.test(value))
        fail('format must be an ffmpeg pixel format name (yuyv422, mjpeg …)');
      source.pixelFormat = value;
    } else {
      fail(`unknown v4l2 option "${key}" (size, fps, format)`);
    }
  }
  return source;
}

function onvifSource(url: string, fail: (why: string) => never): OnvifSource {
  const parsed = networkUrl(url, fail);
  const source: OnvifSource = {
    kind: 'onvif',
    url,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 80,
    input: '',
  };
  const username = safeDecode(parsed.username) ?? fail('bad percent-encoding');
  const password = safeDecode(parsed.password) ?? fail('bad percent-encoding');
  if (username) source.username = username;
  if (password) source.password = password;
  for (const [key, value] of parsed.searchParams) {
    if (key !== 'profile') fail(`unknown onvif option "${key}" (profile)`);
    if (value) source.profile = value;
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '') {
    fail('an onvif URL names the camera only: onvif://user:pass@host[:port]/?profile=…');
  }
  return source;
}

function fileSource(
  url: string,
  path: string,
  options: ParseSourceOptions,
  fail: (why: string) => never,
): FileSource {
  if (!isAbsolute(path)) fail('relative paths are not allowed; give an absolute path');
  if (hasDotDot(path)) fail('".." path segments are not allowed');
  const abs = normalize(path);
  if (options.mediaRoot !== undefined && !insideRoot(abs, options.mediaRoot)) {
    fail(`files must lie under the media root ${options.mediaRoot}`);
  }
  return { kind: 'file', url, path: abs, input: `file:${abs}` };
}

function insideRoot(path: string, mediaRoot: string): boolean {
  const root = resolve(mediaRoot);
  if (!within(path, root)) return false;
  // A symbolic link inside the root may point outside it: compare the real paths when they exist.
  const realRoot = realOrUndefined(root) ?? root;
  const realPath = realOrUndefined(path);
  return realPath === undefined || within(realPath, realRoot);
}

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function hasDotDot(path: string): boolean {
  return path.split(/[/\\]/).some((segment) => segment === '..');
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The URL with any password replaced, for logs, errors and reports. */
export function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]*@/, '$1:***@');
}
