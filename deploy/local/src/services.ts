import { join } from 'node:path';
import { SERVICE_NODE_FLAGS } from '@sie/infra';
import type { LogLevel, ServiceName, StackConfig, StackServiceName } from './stack-config.js';

/** What a service waits for: infrastructure the supervisor starts first, or another service. */
export type Dependency = StackServiceName | 'postgres' | 'nats';

export type HealthProbe =
  { kind: 'http'; url: string } | { kind: 'tcp'; host: string; port: number };

/** One row of the process table: how to run a child and how to know it is ready. */
export interface ServiceProcess {
  name: StackServiceName;
  command: string;
  args: string[];
  /** The compiled entry point (args[0]); the supervisor refuses to start when it is missing. */
  entry: string;
  /** Set on top of the supervisor's own environment. */
  env: Record<string, string>;
  /** Inherited variables removed for this child. */
  unsetEnv: string[];
  health: HealthProbe;
  dependsOn: Dependency[];
}

export interface ProcessTableInput {
  config: StackConfig;
  /** The Postgres the services use (the stack's own, or DATABASE_URL). */
  databaseUrl: string;
  natsUrl: string;
  /** The Node binary children run on (process.execPath). */
  nodePath: string;
  /** Whether a file exists; the only I/O the builder needs, injected so it stays pure. */
  exists: (path: string) => boolean;
}

const HOST = '127.0.0.1';

/**
 * The start order. Each service also lists what it needs healthy before it starts; the order
 * puts every dependency first: postgres, nats → inference, rtsp → ingest, rules, render,
 * scheduler, api.
 */
export const START_ORDER: readonly StackServiceName[] = [
  'inference',
  'rtsp',
  'ingest',
  'rules',
  'render',
  'scheduler',
  'api',
];

const DEPENDENCIES: Readonly<Record<StackServiceName, readonly Dependency[]>> = {
  inference: [],
  rtsp: [],
  ingest: ['nats', 'inference'],
  rules: ['nats'],
  render: ['nats', 'rtsp'],
  // After the stages it commands, so its first placement finds them answering.
  scheduler: ['postgres', 'nats', 'ingest', 'rules', 'render'],
  api: ['postgres', 'nats', 'inference'],
};

export const serviceEntry = (repoRoot: string, name: StackServiceName): string =>
  name === 'rtsp'
    ? join(repoRoot, 'packages', 'rtsp-server', 'dist', 'main.js')
    : join(repoRoot, 'services', name, 'dist', 'main.js');

export const healthUrl = (opsPort: number): string => `http://${HOST}:${opsPort}/healthz`;
export const metricsUrl = (opsPort: number): string => `http://${HOST}:${opsPort}/metrics`;
export const grpcAddress = (config: StackConfig): string => `${HOST}:${config.ports.grpc}`;
export const rtspUrl = (config: StackConfig): string => `rtsp://${HOST}:${config.ports.rtsp}`;

/**
 * The RTSP server's ops endpoint (`/healthz`, `/livez`, `/metrics`; SIE_RTSP_OPS_PORT of
 * packages/rtsp-server), next to the services' 9100-9105.
 */
export const RTSP_OPS_PORT = 9107;

/**
 * Which services run: the ones SIE_STACK_SERVICES names, else all of them, where the RTSP server
 * (a separate package that may not be built) is only included once its entry point exists.
 */
export function selectedServices(
  config: StackConfig,
  exists: (path: string) => boolean,
): StackServiceName[] {
  const wanted = config.services;
  return START_ORDER.filter((name) =>
    wanted ? wanted.includes(name) : name !== 'rtsp' || exists(serviceEntry(config.repoRoot, name)),
  );
}

/**
 * The process table in start order. Dependencies on services that are not selected are dropped
 * (they may run elsewhere, e.g. an external RTSP server).
 */
export function buildProcessTable(input: ProcessTableInput): ServiceProcess[] {
  const { config } = input;
  const selected = selectedServices(config, input.exists);
  return selected.map((name) => {
    const entry = serviceEntry(config.repoRoot, name);
    return {
      name,
      command: input.nodePath,
      args: [...SERVICE_NODE_FLAGS, entry],
      entry,
      ...serviceEnv(name, input),
      health: {
        kind: 'http',
        url: healthUrl(name === 'rtsp' ? RTSP_OPS_PORT : config.opsPorts[name]),
      },
      dependsOn: DEPENDENCIES[name].filter(
        (d) => d === 'postgres' || d === 'nats' || selected.includes(d),
      ),
    };
  });
}

/**
 * What each service reads (through @sie/config: `SIE_` + path segments in UPPER_SNAKE joined by
 * `__`, plus well-known aliases such as NATS_URL and DATABASE_URL).
 */
function serviceEnv(
  name: StackServiceName,
  input: ProcessTableInput,
): { env: Record<string, string>; unsetEnv: string[] } {
  const { config } = input;
  const common = { SIE_NODE_ID: config.nodeId, LOG_LEVEL: config.logLevel };
  if (name === 'rtsp') {
    return {
      env: {
        ...common,
        SIE_RTSP_PORT: String(config.ports.rtsp),
        SIE_RTSP_HOST: HOST,
        SIE_RTSP_OPS_PORT: String(RTSP_OPS_PORT),
        SIE_LOG_LEVEL: rtspLogLevel(config.logLevel),
      },
      unsetEnv: [],
    };
  }
  const ops = { SIE_OPS__PORT: String(config.opsPorts[name]), SIE_OPS__HOST: HOST };
  const nats = { NATS_URL: input.natsUrl };
  // Render writes event snapshots (and local capture datasets) that the API serves and checks:
  // both name the same folders, under the stack's data folder.
  const media = {
    SIE_SNAPSHOT_DIR: join(config.dataDir, 'snapshots'),
    SIE_CAPTURE__ROOT_DIR: join(config.dataDir, 'capture'),
  };
  const own: Record<ServiceName, Record<string, string>> = {
    api: {
      ...nats,
      DATABASE_URL: input.databaseUrl,
      SIE_HTTP__PORT: String(config.ports.api),
      SIE_INFERENCE_URL: grpcAddress(config),
      // Uploaded models are stored under the stack's data folder.
      SIE_DATA_DIR: config.dataDir,
      ...media,
    },
    // The scheduler loads a run's model on the node's inference service before starting it.
    scheduler: { ...nats, DATABASE_URL: input.databaseUrl, SIE_INFERENCE_URL: grpcAddress(config) },
    // The inference service serves gRPC only.
    inference: { SIE_GRPC__PORT: String(config.ports.grpc), SIE_GRPC__HOST: HOST },
    ingest: { ...nats, SIE_INFERENCE_URL: grpcAddress(config) },
    rules: { ...nats },
    render: { ...nats, SIE_RTSP_PUBLISH_URL: rtspUrl(config), ...media },
  };
  return {
    env: { ...common, ...ops, ...own[name] },
    unsetEnv: name === 'inference' ? ['NATS_URL'] : [],
  };
}

/** The RTSP server (no @sie/config) knows four levels only. */
function rtspLogLevel(level: LogLevel): 'debug' | 'info' | 'warn' | 'error' {
  if (level === 'trace' || level === 'debug') return 'debug';
  if (level === 'info' || level === 'warn') return level;
  return 'error';
}

/** The environment of one child: the supervisor's, minus `unsetEnv`, plus `env`. */
export function childEnv(base: NodeJS.ProcessEnv, spec: ServiceProcess): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of spec.unsetEnv) delete env[name];
  return { ...env, ...spec.env };
}
