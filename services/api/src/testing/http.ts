import { TENANT_HEADER } from '../http/tenant.js';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request against the test server; `tenant` sets the tenant header. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { json?: unknown; raw?: string; tenant?: string; contentType?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = {};
  if (options.tenant) headers[TENANT_HEADER] = options.tenant;
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (metrics, docs): the text itself.
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** A multipart/form-data request (files as Blobs). */
export async function postForm<T = Record<string, unknown>>(
  base: string,
  path: string,
  form: FormData,
  tenant?: string,
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = {};
  if (tenant) headers[TENANT_HEADER] = tenant;
  const res = await fetch(`${base}${path}`, { method: 'POST', body: form, headers });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Left as text.
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export type Box = [number, number, number, number];

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const area = (r: Box): number => (r[2] - r[0]) * (r[3] - r[1]);
  return inter / (area(a) + area(b) - inter);
}
