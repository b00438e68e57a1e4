import { isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '@sie/errors';
import { z } from 'zod';

/** The node services of sie, each one process with its own ops (health/metrics) port. */
export const SERVICE_NAMES = [
  'api',
  'ingest',
  'inference',
  'scheduler',
  'rules',
  'render',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Everything the stack can run as a child process: the services and the RTSP server. */
export type StackServiceName = ServiceName | 'rtsp';
export const STACK_SERVICE_NAMES: readonly StackServiceName[] = [...SERVICE_NAMES, 'rtsp'];

export const DEFAULT_OPS_PORTS: Readonly<Record<ServiceName, number>> = {
  api: 9100,
  ingest: 9101,
  inference: 9102,
  scheduler: 9103,
  rules: 9104,
  render: 9105,
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface StackPorts {
  postgres: number;
  nats: number;
  natsMonitor: number;
  api: number;
  grpc: number;
  rtsp: number;
}

export interface StackConfig {
  repoRoot: string;
  /** Absolute; holds postgres/, nats/, logs/, stack.json and stack.pid. */
  dataDir: string;
  nodeId: string;
  logLevel: LogLevel;
  /** A Postgres the stack uses instead of starting its own (DATABASE_URL). */
  externalDatabaseUrl: string | undefined;
  ports: StackPorts;
  opsPorts: Record<ServiceName, number>;
  /** The services to run (SIE_STACK_SERVICES); undefined runs every one that is built. */
  services: readonly StackServiceName[] | undefined;
  /** How long stack-up waits for the stack to become ready. */
  timeoutMs: number;
  /** How long stack-down waits for the supervisor before killing its process group. */
  stopTimeoutMs: number;
}

/** `api` → `SIE_API_OPS_PORT`. */
export const opsPortVariable = (service: ServiceName): string =>
  `SIE_${service.toUpperCase()}_OPS_PORT`;

/** Every port variable with its default, in the order they are documented and checked. */
export const PORT_VARIABLES: readonly { name: string; key: keyof StackPorts; fallback: number }[] =
  [
    { name: 'SIE_PG_PORT', key: 'postgres', fallback: 55432 },
    { name: 'SIE_NATS_PORT', key: 'nats', fallback: 4222 },
    { name: 'SIE_NATS_MONITOR_PORT', key: 'natsMonitor', fallback: 8222 },
    { name: 'SIE_API_PORT', key: 'api', fallback: 8080 },
    { name: 'SIE_GRPC_PORT', key: 'grpc', fallback: 50051 },
    { name: 'SIE_RTSP_PORT', key: 'rtsp', fallback: 8554 },
  ];

const port = z
  .string()
  .regex(/^\d+$/, 'must be a TCP port number (1-65535)')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535'));
const positiveMs = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of milliseconds')
  .transform(Number)
  .pipe(z.number().int().min(1000, 'must be at least 1000 ms'));
const nodeId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, _ and - only');
const logLevel = z.enum(LOG_LEVELS);
const databaseUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL');

export interface LoadStackConfigOptions {
  env: NodeJS.ProcessEnv;
  repoRoot: string;
  /** Relative SIE_STACK_DATA_DIR values are taken from here (the shell's directory). */
  cwd: string;
}

/**
 * Reads the stack's configuration from the environment. Empty variables count as unset (a shell
 * `FOO=` is a common way to clear one). Every bad value is reported at once, each issue named by
 * its variable, as a ConfigError.
 */
export function loadStackConfig(options: LoadStackConfigOptions): StackConfig {
  const issues: ConfigIssue[] = [];
  const read = <T>(name: string, schema: z.ZodType<T, string>, fallback: T): T => {
    const raw = options.env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const why = parsed.error.issues[0]?.message ?? 'invalid value';
    issues.push({ path: name, message: `${why} (got ${JSON.stringify(raw)})` });
    return fallback;
  };

  const ports = {} as StackPorts;
  for (const v of PORT_VARIABLES) ports[v.key] = read(v.name, port, v.fallback);
  const opsPorts = {} as Record<ServiceName, number>;
  for (const s of SERVICE_NAMES) opsPorts[s] = read(opsPortVariable(s), port, DEFAULT_OPS_PORTS[s]);

  const dataDir = resolveDataDir(options);
  const externalDatabaseUrl = read<string | undefined>('DATABASE_URL', databaseUrl, undefined);

  const config: StackConfig = {
    repoRoot: options.repoRoot,
    dataDir,
    nodeId: read('SIE_NODE_ID', nodeId, 'local'),
    logLevel: read('LOG_LEVEL', logLevel, 'info'),
    externalDatabaseUrl,
    ports,
    opsPorts,
    services: parseServices(options.env['SIE_STACK_SERVICES'], issues),
    timeoutMs: read('SIE_STACK_TIMEOUT_MS', positiveMs, 120_000),
    stopTimeoutMs: read('SIE_STACK_STOP_TIMEOUT_MS', positiveMs, 30_000),
  };
  issues.push(...portClashes(config));
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  return config;
}

/**
 * SIE_STACK_DATA_DIR (relative to the shell's directory) or `<repo>/.data`. Separate from the
 * rest so stack-down can find a stack even when another variable has become invalid.
 */
export function resolveDataDir(options: LoadStackConfigOptions): string {
  const raw = options.env['SIE_STACK_DATA_DIR']?.trim();
  if (!raw) return resolve(options.repoRoot, '.data');
  return isAbsolute(raw) ? resolve(raw) : resolve(options.cwd, raw);
}

/** `all` (or unset) → every service; `none` → only Postgres and NATS; else a comma list. */
function parseServices(
  raw: string | undefined,
  issues: ConfigIssue[],
): readonly StackServiceName[] | undefined {
  const text = raw?.trim() ?? '';
  if (text === '' || text === 'all') return undefined;
  if (text === 'none') return [];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(STACK_SERVICE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    issues.push({
      path: 'SIE_STACK_SERVICES',
      message: `unknown service ${unknown.join(', ')} (known: ${STACK_SERVICE_NAMES.join(', ')}, or all / none)`,
    });
    return undefined;
  }
  return [...new Set(names)] as StackServiceName[];
}

/** The ports the stack binds, each with the variable that sets it. */
export function boundPorts(config: StackConfig): { name: string; port: number }[] {
  const out = PORT_VARIABLES.filter((v) => !(v.key === 'postgres' && config.externalDatabaseUrl))
    .map((v) => ({ name: v.name, port: config.ports[v.key] }))
    .concat(SERVICE_NAMES.map((s) => ({ name: opsPortVariable(s), port: config.opsPorts[s] })));
  return out;
}

/** The ports a stack running `services` binds: Postgres, NATS and those of the services. */
export function portsInUse(
  config: StackConfig,
  services: readonly StackServiceName[],
): { name: string; port: number }[] {
  const owner: Partial<Record<keyof StackPorts, StackServiceName>> = {
    api: 'api',
    grpc: 'inference',
    rtsp: 'rtsp',
  };
  return boundPorts(config).filter(({ name }) => {
    const v = PORT_VARIABLES.find((p) => p.name === name);
    if (v) {
      const service = owner[v.key];
      return service === undefined || services.includes(service);
    }
    const ops = SERVICE_NAMES.find((s) => opsPortVariable(s) === name);
    return ops === undefined || services.includes(ops);
  });
}

/** Two things on one port would fail at bind time, far from the variable that caused it. */
function portClashes(config: StackConfig): ConfigIssue[] {
  const seen = new Map<number, string>();
  const issues: ConfigIssue[] = [];
  for (const { name, port: p } of boundPorts(config)) {
    const other = seen.get(p);
    if (other) issues.push({ path: name, message: `port ${p} is already used by ${other}` });
    else seen.set(p, name);
  }
  return issues;
}
