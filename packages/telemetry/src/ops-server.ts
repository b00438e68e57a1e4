import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export type CheckResult = 'ok' | string;

export interface HealthReport {
  /** Readiness of each dependency: 'ok' or the reason it is not. */
  checks: Record<string, CheckResult>;
  /** Free-form facts shown on /healthz (what the service still lacks, versions, …). */
  info?: Record<string, unknown>;
}

export interface OpsServerOptions {
  service: string;
  port: number;
  host?: string;
  registry: Registry;
  logger: Logger;
  health: () => HealthReport | Promise<HealthReport>;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The operations endpoint every service serves: `/healthz` (200 when every check is 'ok', else
 * 503, JSON body either way), `/livez` (the process answers) and `/metrics` (Prometheus text).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const started = Date.now();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      return send(res, 200, options.registry.contentType, await options.registry.metrics());
    }
    if (path === '/livez') return send(res, 200, 'application/json', '{"status":"ok"}\n');
    if (path === '/healthz' || path === '/readyz') {
      const report = await options.health();
      const healthy = Object.values(report.checks).every((c) => c === 'ok');
      const body = {
        service: options.service,
        status: healthy ? 'ok' : 'unavailable',
        uptimeMs: Date.now() - started,
        checks: report.checks,
        ...(report.info ? { info: report.info } : {}),
      };
      return send(res, healthy ? 200 : 503, 'application/json', JSON.stringify(body) + '\n');
    }
    return send(res, 404, 'text/plain', 'not found\n');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.error({ err }, 'ops endpoint failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'ops endpoint listening (/healthz, /metrics)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
