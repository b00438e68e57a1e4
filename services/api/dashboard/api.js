// The REST API as the dashboard uses it: same origin, JSON, the tenant header on every call.

const TENANT_KEY = 'sie.tenant';
export const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** The tenant chosen in this browser; '' means the API's default tenant. */
export function getTenant() {
  try {
    return localStorage.getItem(TENANT_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setTenant(tenant) {
  if (tenant) localStorage.setItem(TENANT_KEY, tenant);
  else localStorage.removeItem(TENANT_KEY);
}

/** Request headers with `x-sie-tenant` when a tenant is chosen. */
export function apiHeaders(extra = {}) {
  const headers = { ...extra };
  const tenant = getTenant();
  if (tenant) headers['x-sie-tenant'] = tenant;
  return headers;
}

/** An error answer of the API: `{code, message, details?, issues?}` and the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || `http_${status}`;
    this.details = body.details || {};
    this.issues = Array.isArray(body.issues) ? body.issues : [];
  }

  /**
   * Where each problem belongs in a form: the issues' dotted paths (`source.url`), else the
   * `field` detail, else '' (the form as a whole).
   */
  fieldErrors() {
    if (this.issues.length > 0) {
      return this.issues.map((i) => ({ path: String(i.path ?? ''), message: String(i.message) }));
    }
    return [{ path: String(this.details.field ?? ''), message: this.message }];
  }
}

export async function api(method, path, body) {
  const init = { method, headers: apiHeaders(), cache: 'no-store' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    throw new ApiError(res.status, json ?? { message: text || res.statusText });
  }
  return json;
}
