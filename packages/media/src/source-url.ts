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

export type ParsedSource = FileSource | RtspSource;

export interface ParseSourceOptions {
  /** When set, file sources must lie under this directory (symbolic links resolved). */
  mediaRoot?: string;
}

const MAX_URL_LENGTH = 4096;
// Characters that have no business in a source URL and could confuse ffmpeg's own URL parsing.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Validates a client-supplied source URL and says exactly how ffmpeg should open it. Only local
 * files (`file:///abs`, `/abs`) and RTSP(S) are accepted: ffmpeg's other protocols (`concat:`,
 * `subfile:`, `http:` …) can read arbitrary files or reach arbitrary hosts, so they are refused.
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
    return { kind: 'rtsp', url, scheme, input: url };
  }
  return fail(
    `scheme "${scheme}:" is not allowed (use file://, an absolute path, rtsp:// or rtsps://)`,
  );
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
