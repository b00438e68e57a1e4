/** What a request URI addresses. */
export interface RtspTarget {
  /** Decoded path without leading or trailing slashes; '' for `*` or the root. */
  path: string;
  /** `host[:port]` as the client wrote it; undefined for `*` or an absolute path. */
  authority?: string;
  /**
   * The publisher's generation (`?sie_gen=N` in the URL): a publisher with a higher one takes an
   * occupied path over (a run moved to another node); undefined when the URL does not say.
   */
  generation?: number;
}

/** `sie_gen` of a query string (`a=1&sie_gen=3`), when it is a non-negative integer. */
export function generationOfQuery(query: string): number | undefined {
  for (const part of query.split('&')) {
    const [k, v] = part.split('=');
    if (k === 'sie_gen' && v !== undefined && /^\d{1,15}$/.test(v)) return Number(v);
  }
  return undefined;
}

const MAX_PATH_CHARS = 1024;

function hasControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Parses a request URI (`rtsp://host:port/a/b?q`, `/a/b` or `*`). Undefined when it is not a URI
 * the server can address; query strings are ignored because paths are the only key.
 */
export function parseRequestUri(uri: string): RtspTarget | undefined {
  if (uri === '*') return { path: '' };
  let rawPath: string;
  let authority: string | undefined;
  if (uri.startsWith('/')) {
    rawPath = uri;
  } else {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'rtsp:' && url.protocol !== 'rtspu:' && url.protocol !== 'rtsps:') {
      return undefined;
    }
    rawPath = url.pathname + url.search;
    authority = url.host;
  }
  const q = rawPath.search(/[?#]/);
  let generation: number | undefined;
  if (q >= 0) {
    // ffmpeg appends a publisher's track controls after the query (`?sie_gen=3/streamid=0`).
    generation = generationOfQuery(rawPath.slice(q + 1).split(/[/#]/)[0] ?? '');
    rawPath = rawPath.slice(0, q);
  }
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  path = path.replace(/\/{2,}/g, '/').replace(/^\/+|\/+$/g, '');
  // Control characters in a path would end up in logs and headers.
  if (path.length > MAX_PATH_CHARS || hasControlChars(path)) return undefined;
  // `.` and `..` segments: paths are names, not files, but a name that looks like traversal is
  // refused rather than kept (it would be shown in URLs, logs and output paths).
  if (path.split('/').some((seg) => seg === '.' || seg === '..')) return undefined;
  const out: RtspTarget = authority === undefined ? { path } : { path, authority };
  if (generation !== undefined) out.generation = generation;
  return out;
}

/** The control name the server gives track `index` in the SDP it hands to readers. */
export function trackControl(index: number): string {
  return `trackID=${index}`;
}

/** Splits `cam1/trackID=0` into the stream path and the track index the server assigned. */
export function splitTrackPath(path: string): { path: string; track: number } | undefined {
  const m = /^(.*)\/trackID=(\d{1,3})$/.exec(path);
  if (!m) return undefined;
  return { path: m[1] ?? '', track: Number(m[2]) };
}

/**
 * Path a track's `a=control` attribute resolves to against the stream's path (RFC 2326 C.1.1):
 * absolute URLs keep their own path, `*` or no control means the stream itself, anything else is
 * relative to the stream path.
 */
export function resolveControlPath(streamPath: string, control: string | undefined): string {
  if (control === undefined || control === '' || control === '*') return streamPath;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(control) || control.startsWith('/')) {
    return parseRequestUri(control)?.path ?? control;
  }
  const rel = control.replace(/^\/+|\/+$/g, '');
  return streamPath === '' ? rel : `${streamPath}/${rel}`;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so IPv4 peers compare equal whatever the socket family. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
