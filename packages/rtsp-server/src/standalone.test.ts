import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ConfigError } from '@sie/errors';
import { createJsonLineLogger } from './json-logger.js';
import { standaloneConfigFromEnv } from './standalone.js';
import { RawRtspClient } from './testing/raw-client.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

test('configuration comes from the environment, with defaults', () => {
  assert.deepEqual(standaloneConfigFromEnv({}), {
    host: '127.0.0.1',
    port: 8554,
    opsPort: 9107,
    logLevel: 'info',
  });
  assert.deepEqual(
    standaloneConfigFromEnv({
      SIE_RTSP_HOST: '0.0.0.0',
      SIE_RTSP_PORT: '0',
      SIE_RTSP_OPS_PORT: '0',
      SIE_LOG_LEVEL: 'debug',
    }),
    { host: '0.0.0.0', port: 0, opsPort: 0, logLevel: 'debug' },
  );
  assert.throws(
    () =>
      standaloneConfigFromEnv({
        SIE_RTSP_PORT: '99999',
        SIE_RTSP_OPS_PORT: 'x',
        SIE_LOG_LEVEL: 'loud',
      }),
    (err: unknown) => err instanceof ConfigError && err.issues.length === 3,
  );
  assert.deepEqual(
    standaloneConfigFromEnv({
      SIE_RTSP_REQUEST_TIMEOUT_MS: '5000',
      SIE_RTSP_MAX_HEADER_COUNT: '32',
    }).limits,
    { requestTimeoutMs: 5000, maxHeaderCount: 32 },
  );
  assert.throws(
    () => standaloneConfigFromEnv({ SIE_RTSP_MAX_REPLY_BACKLOG_BYTES: '0' }),
    /SIE_RTSP_MAX_REPLY_BACKLOG_BYTES/,
  );
});

test('the JSON line logger filters by level and survives unserialisable fields', () => {
  const lines: string[] = [];
  const log = createJsonLineLogger('info', (l) => lines.push(l), { name: 't' });
  log.debug({ a: 1 }, 'hidden');
  log.info({ a: 1 }, 'shown');
  const circular: Record<string, unknown> = {};
  circular['self'] = circular;
  log.error(circular, 'still logged');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(first['msg'], 'shown');
  assert.equal(first['level'], 30);
  assert.equal(first['name'], 't');
  assert.equal(first['a'], 1);
  assert.ok(lines.every((l) => l.endsWith('\n')));
});

test('main.js serves RTSP and /healthz + /metrics, logs JSON lines and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      SIE_RTSP_PORT: '0',
      SIE_RTSP_OPS_PORT: '0',
      SIE_LOG_LEVEL: 'info',
      SIE_NODE_ID: 'n1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  type Line = { msg?: string; port?: number; level?: string; service?: string };
  const lines = (): Line[] =>
    out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Line);
  const find = (msg: string): Line | undefined =>
    lines().find((l) => l.msg?.startsWith(msg) === true);
  const deadline = Date.now() + 5000;
  while (!find('ops endpoint listening') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const listening = find('rtsp server listening');
  const ops = find('ops endpoint listening');
  assert.ok(listening?.port && listening.port > 0);
  assert.ok(ops?.port && ops.port > 0);
  assert.equal(listening.service, 'rtsp');
  assert.equal(listening.level, 'info');
  const c = await RawRtspClient.connect(listening.port);
  assert.equal((await c.request('OPTIONS', '*')).status, 200);

  const health = await fetch(`http://127.0.0.1:${ops.port}/healthz`);
  assert.equal(health.status, 200);
  const body = (await health.json()) as { service: string; checks: Record<string, string> };
  assert.equal(body.service, 'rtsp');
  assert.equal(body.checks['listening'], 'ok');
  const metrics = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
  assert.match(metrics, /^sie_rtsp_connections\{service="rtsp",node="n1"\} 1$/m);
  assert.match(metrics, /^sie_rtsp_requests_total\{service="rtsp",node="n1"\} 1$/m);
  assert.match(metrics, /^sie_process_cpu_seconds_total/m);
  c.close();

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const msgs = lines().map((l) => l.msg);
  assert.ok(msgs.includes('shutting down'));
  assert.ok(msgs.includes('rtsp server stopped'));
});

test('main.js exits 1 with a JSON error line on bad configuration', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SIE_RTSP_PORT: 'nope' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  const line = JSON.parse(out.trim()) as { level: number; err: string };
  assert.equal(line.level, 50);
  assert.match(line.err, /SIE_RTSP_PORT/);
});
