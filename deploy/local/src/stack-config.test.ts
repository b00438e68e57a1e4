import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@sie/errors';
import { SERVICE_NODE_FLAGS } from '@sie/infra';
import { buildEndpoints } from './endpoints.js';
import { buildProcessTable, childEnv, serviceEntry, type ServiceProcess } from './services.js';
import { loadStackConfig, portsInUse, type StackConfig } from './stack-config.js';

const repoRoot = '/repo';
const load = (env: NodeJS.ProcessEnv = {}): StackConfig =>
  loadStackConfig({ env, repoRoot, cwd: '/home/me' });

function table(config: StackConfig, built: (path: string) => boolean = () => true) {
  return buildProcessTable({
    config,
    databaseUrl: 'postgres://postgres:postgres@127.0.0.1:55432/sie',
    natsUrl: 'nats://127.0.0.1:4222',
    nodePath: '/usr/bin/node',
    exists: built,
  });
}

const row = (rows: ServiceProcess[], name: string): ServiceProcess => {
  const found = rows.find((r) => r.name === name);
  assert.ok(found, `no ${name} row`);
  return found;
};

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults', () => {
  const c = load();
  assert.equal(c.dataDir, '/repo/.data');
  assert.equal(c.nodeId, 'local');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.externalDatabaseUrl, undefined);
  assert.deepEqual(c.ports, {
    postgres: 55432,
    nats: 4222,
    natsMonitor: 8222,
    api: 8080,
    grpc: 50051,
    rtsp: 8554,
  });
  assert.deepEqual(c.opsPorts, {
    api: 9100,
    ingest: 9101,
    inference: 9102,
    scheduler: 9103,
    rules: 9104,
    render: 9105,
  });
  assert.equal(c.services, undefined);
  assert.equal(c.timeoutMs, 120_000);
});

test('overrides, with empty variables counting as unset', () => {
  const c = load({
    SIE_STACK_DATA_DIR: 'tmp/stack',
    DATABASE_URL: 'postgres://u:p@db:5432/x',
    SIE_PG_PORT: '56432',
    SIE_NATS_PORT: '14222',
    SIE_NATS_MONITOR_PORT: '18222',
    SIE_API_PORT: '18080',
    SIE_GRPC_PORT: '15051',
    SIE_RTSP_PORT: '18554',
    SIE_NODE_ID: 'edge-1',
    SIE_RULES_OPS_PORT: '19104',
    SIE_STACK_SERVICES: 'api, scheduler',
    SIE_STACK_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'debug',
    SIE_INGEST_OPS_PORT: '',
  });
  assert.equal(c.dataDir, '/home/me/tmp/stack');
  assert.equal(c.externalDatabaseUrl, 'postgres://u:p@db:5432/x');
  assert.equal(c.ports.postgres, 56432);
  assert.equal(c.ports.nats, 14222);
  assert.equal(c.ports.api, 18080);
  assert.equal(c.ports.grpc, 15051);
  assert.equal(c.ports.rtsp, 18554);
  assert.equal(c.opsPorts.rules, 19104);
  assert.equal(c.opsPorts.ingest, 9101);
  assert.equal(c.nodeId, 'edge-1');
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual(c.services, ['api', 'scheduler']);
  assert.equal(c.timeoutMs, 5000);
  assert.equal(load({ SIE_STACK_DATA_DIR: '/abs/dir/' }).dataDir, '/abs/dir');
  assert.deepEqual(load({ SIE_STACK_SERVICES: 'none' }).services, []);
});

test('a bad value is an error naming its variable', () => {
  for (const [name, value] of [
    ['SIE_PG_PORT', 'abc'],
    ['SIE_NATS_PORT', '70000'],
    ['SIE_GRPC_PORT', '0'],
    ['SIE_RENDER_OPS_PORT', '-1'],
    ['SIE_NODE_ID', 'a.b'],
    ['DATABASE_URL', 'mysql://x'],
    ['LOG_LEVEL', 'loud'],
    ['SIE_STACK_SERVICES', 'api,ingset'],
  ] as const) {
    const err = configError({ [name]: value });
    assert.deepEqual(
      err.issues.map((i) => i.path),
      [name],
    );
    assert.match(err.message, new RegExp(name));
  }
  // Every bad variable at once, not one per attempt.
  assert.equal(configError({ SIE_PG_PORT: 'x', SIE_API_PORT: 'y' }).issues.length, 2);
});

test('two things on one port are refused, naming both variables', () => {
  const err = configError({ SIE_API_PORT: '9100' });
  assert.match(err.message, /SIE_API_OPS_PORT: port 9100 is already used by SIE_API_PORT/);
  // An external Postgres frees its port.
  assert.doesNotThrow(() =>
    load({ DATABASE_URL: 'postgres://h/db', SIE_PG_PORT: '8080', SIE_API_PORT: '8080' }),
  );
});

test('process table: start order, dependencies first, commands and health checks', () => {
  const rows = table(load());
  assert.deepEqual(
    rows.map((r) => r.name),
    ['inference', 'rtsp', 'ingest', 'rules', 'render', 'scheduler', 'api'],
  );
  const seen = new Set<string>(['postgres', 'nats']);
  for (const r of rows) {
    for (const d of r.dependsOn) assert.ok(seen.has(d), `${r.name} depends on later ${d}`);
    seen.add(r.name);
  }
  assert.deepEqual(row(rows, 'ingest').dependsOn, ['nats', 'inference']);
  assert.deepEqual(row(rows, 'render').dependsOn, ['nats', 'rtsp']);
  assert.deepEqual(row(rows, 'api').dependsOn, ['postgres', 'nats', 'inference']);
  assert.deepEqual(row(rows, 'scheduler').dependsOn, [
    'postgres',
    'nats',
    'ingest',
    'rules',
    'render',
  ]);
  const api = row(rows, 'api');
  assert.equal(api.command, '/usr/bin/node');
  assert.deepEqual(api.args, [...SERVICE_NODE_FLAGS, '/repo/services/api/dist/main.js']);
  assert.deepEqual(api.health, { kind: 'http', url: 'http://127.0.0.1:9100/healthz' });
  assert.deepEqual(row(rows, 'rtsp').args, [
    ...SERVICE_NODE_FLAGS,
    '/repo/packages/rtsp-server/dist/main.js',
  ]);
  assert.deepEqual(row(rows, 'rtsp').health, {
    kind: 'http',
    url: 'http://127.0.0.1:9107/healthz',
  });
});

test('process table: what each service reads from its environment', () => {
  const config = load({ SIE_NODE_ID: 'n1', SIE_GRPC_PORT: '15051', SIE_RTSP_PORT: '18554' });
  const rows = table(config);
  const db = 'postgres://postgres:postgres@127.0.0.1:55432/sie';
  assert.deepEqual(row(rows, 'api').env, {
    SIE_NODE_ID: 'n1',
    LOG_LEVEL: 'info',
    SIE_OPS__PORT: '9100',
    SIE_OPS__HOST: '127.0.0.1',
    NATS_URL: 'nats://127.0.0.1:4222',
    DATABASE_URL: db,
    SIE_HTTP__PORT: '8080',
    SIE_INFERENCE_URL: '127.0.0.1:15051',
    SIE_DATA_DIR: '/repo/.data',
    SIE_SNAPSHOT_DIR: '/repo/.data/snapshots',
    SIE_CAPTURE__ROOT_DIR: '/repo/.data/capture',
  });
  assert.equal(row(rows, 'scheduler').env['DATABASE_URL'], db);
  assert.equal(row(rows, 'scheduler').env['SIE_INFERENCE_URL'], '127.0.0.1:15051');
  assert.equal(row(rows, 'scheduler').env['SIE_OPS__PORT'], '9103');
  assert.equal(row(rows, 'inference').env['SIE_GRPC__PORT'], '15051');
  assert.equal(row(rows, 'inference').env['SIE_GRPC__HOST'], '127.0.0.1');
  assert.equal(row(rows, 'inference').env['NATS_URL'], undefined);
  assert.equal(row(rows, 'ingest').env['SIE_INFERENCE_URL'], '127.0.0.1:15051');
  assert.equal(row(rows, 'ingest').env['NATS_URL'], 'nats://127.0.0.1:4222');
  assert.equal(row(rows, 'render').env['SIE_RTSP_PUBLISH_URL'], 'rtsp://127.0.0.1:18554');
  assert.equal(row(rows, 'render').env['SIE_SNAPSHOT_DIR'], '/repo/.data/snapshots');
  assert.equal(row(rows, 'rtsp').env['SIE_RTSP_PORT'], '18554');
  assert.equal(row(rows, 'rtsp').env['SIE_RTSP_HOST'], '127.0.0.1');
  assert.equal(row(rows, 'rtsp').env['SIE_RTSP_OPS_PORT'], '9107');
  assert.equal(row(rows, 'rtsp').env['SIE_LOG_LEVEL'], 'info');
  for (const r of rows) assert.equal(r.env['SIE_NODE_ID'], 'n1');

  // The child keeps the supervisor's environment, minus what the row removes.
  const env = childEnv({ PATH: '/bin', NATS_URL: 'nats://elsewhere' }, row(rows, 'inference'));
  assert.equal(env['PATH'], '/bin');
  assert.equal(env['NATS_URL'], undefined);
  assert.equal(
    childEnv({ NATS_URL: 'x' }, row(rows, 'rules'))['NATS_URL'],
    rows[3]?.env['NATS_URL'],
  );
});

test('process table: the RTSP server only once built, selections drop missing dependencies', () => {
  const rtspMain = serviceEntry(repoRoot, 'rtsp');
  const rows = table(load(), (p) => p !== rtspMain);
  assert.ok(!rows.some((r) => r.name === 'rtsp'));
  assert.deepEqual(row(rows, 'render').dependsOn, ['nats']);

  const some = table(load({ SIE_STACK_SERVICES: 'api,ingest' }));
  assert.deepEqual(
    some.map((r) => r.name),
    ['ingest', 'api'],
  );
  assert.deepEqual(row(some, 'ingest').dependsOn, ['nats']);
});

test('endpoints', () => {
  const config = load({ SIE_API_PORT: '18080', SIE_SCHEDULER_OPS_PORT: '19103' });
  const e = buildEndpoints(config, ['api', 'scheduler', 'rtsp'], 'postgres://x', '/d/logs');
  assert.deepEqual(e, {
    api: 'http://127.0.0.1:18080',
    grpc: '127.0.0.1:50051',
    nats: 'nats://127.0.0.1:4222',
    postgres: 'postgres://x',
    rtsp: 'rtsp://127.0.0.1:8554',
    health: { api: 'http://127.0.0.1:9100/healthz', scheduler: 'http://127.0.0.1:19103/healthz' },
    metrics: { api: 'http://127.0.0.1:9100/metrics', scheduler: 'http://127.0.0.1:19103/metrics' },
    logs: '/d/logs',
    nodeId: 'local',
  });
});

test('only the ports of the services that run are checked', () => {
  const names = portsInUse(load(), ['ingest', 'rules']).map((p) => p.name);
  assert.deepEqual(names, [
    'SIE_PG_PORT',
    'SIE_NATS_PORT',
    'SIE_NATS_MONITOR_PORT',
    'SIE_INGEST_OPS_PORT',
    'SIE_RULES_OPS_PORT',
  ]);
  assert.ok(portsInUse(load(), ['inference', 'rtsp']).some((p) => p.name === 'SIE_GRPC_PORT'));
  assert.ok(portsInUse(load(), ['inference', 'rtsp']).some((p) => p.name === 'SIE_RTSP_PORT'));
});
