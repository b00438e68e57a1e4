import { ApiRequestError, ApiUnreachableError, type ApiErrorBody } from './errors.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
export const TENANT_HEADER = 'x-sie-tenant';

export interface RequestOptions {
  json?: unknown;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  /** A raw body (a multipart stream); needs its content-type in `headers`. */
  body?: AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

/**
 * The REST API over fetch: JSON in and out, the tenant header on every request, error bodies
 * turned into ApiRequestError (code, message, field paths) and connection failures into
 * ApiUnreachableError.
 */
export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly tenant: string | undefined,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(path: string, query: Record<string, string | undefined> = {}): string {
    const u = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
    return u.toString();
  }

  /** Sends a request and answers the raw response when it is a success (2xx). */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.tenant) headers[TENANT_HEADER] = this.tenant;
    let body: string | AsyncIterable<Uint8Array> | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.body) {
      body = options.body;
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        // A streamed body must say so (fetch's half-duplex rule).
        ...(typeof body === 'object' ? { duplex: 'half' } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      } as RequestInit);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new ApiUnreachableError(this.baseUrl, reasonOf(err), { cause: err });
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  post<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>('POST', path, json === undefined ? {} : { json });
  }

  put<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>('PUT', path, { json });
  }
}

/** The error of a non-2xx response: the API's own body, or a stand-in for anything else. */
export async function errorOf(res: Response): Promise<ApiRequestError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      return new ApiRequestError(res.status, body as ApiErrorBody);
    }
  } catch {
    // Not the API's JSON (a proxy's page): reported by status below.
  }
  return new ApiRequestError(res.status, {
    code: `http_${res.status}`,
    message: `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
  });
}

/** Why fetch failed, in a word or two (ECONNREFUSED, ENOTFOUND, …). */
function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
