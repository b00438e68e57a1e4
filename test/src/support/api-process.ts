import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@sie/infra';
import type { Stack } from './scheduler-stack.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

export interface ApiProcess {
  url: string;
  process: ServiceProcess;
  /** JSON request to the API (as the stack's tenant); the status and the parsed body. */
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
}

/** The API as a real process on the stack's database and NATS (stopped with the stack). */
export async function startApi(stack: Stack): Promise<ApiProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sie-api-'));
  const port = await findFreePort();
  const p = await startServiceProcess('api', {
    DATABASE_URL: stack.databaseUrl,
    NATS_URL: stack.natsUrl,
    SIE_HTTP__PORT: String(port),
    SIE_DATA_DIR: dataDir,
    ...(stack.inferenceUrl ? { SIE_INFERENCE_URL: stack.inferenceUrl } : {}),
  });
  stack.processes.push(p);
  p.child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    process: p,
    async call<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          'x-sie-tenant': stack.tenantId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    },
  };
}
