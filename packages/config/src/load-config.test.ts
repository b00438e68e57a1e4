import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '@sie/errors';
import { z } from 'zod';
import { envNameFor, loadConfig } from './index.js';

const schema = z.strictObject({
  nodeId: z.string().min(1).default('node-1'),
  grpc: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(50051),
      maxMessageBytes: z
        .number()
        .int()
        .positive()
        .default(4 << 20),
    })
    .prefault({}),
  databaseUrl: z.string().optional(),
});

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sie-config-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

test('defaults apply when nothing else is given', () => {
  const c = loadConfig({ schema, env: {}, argv: [] });
  assert.deepEqual(c, { nodeId: 'node-1', grpc: { port: 50051, maxMessageBytes: 4 << 20 } });
});

test('file overrides defaults and environment overrides the file', () => {
  const f = tmpFile('c.yaml', 'nodeId: from-file\ngrpc:\n  port: 6000\n');
  const c = loadConfig({
    schema,
    env: { SIE_GRPC__PORT: '7000', DATABASE_URL: 'postgres://x' },
    argv: ['--config', f],
    envAliases: { DATABASE_URL: 'databaseUrl' },
  });
  assert.equal(c.nodeId, 'from-file');
  assert.equal(c.grpc.port, 7000);
  assert.equal(c.databaseUrl, 'postgres://x');
});

test('a well-known variable for a key the service does not have is ignored', () => {
  const c = loadConfig({
    schema,
    env: { NATS_URL: 'nats://x' },
    argv: [],
    envAliases: { NATS_URL: 'nats.url' },
  });
  assert.equal('nats' in c, false);
});

test('an unknown key in the file fails and names the key path', () => {
  const f = tmpFile('c.json', JSON.stringify({ grpc: { port: 1, prot: 2 } }));
  assert.throws(
    () => loadConfig({ schema, env: {}, argv: ['--config', f] }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.issues.some((i) => i.path === 'grpc.prot' && i.message === 'unknown key') &&
      /grpc\.prot/.test(e.message),
  );
});

test('a bad value from the environment names its path', () => {
  assert.throws(
    () => loadConfig({ schema, env: { SIE_GRPC__PORT: '70000' }, argv: [] }),
    (e: unknown) => e instanceof ConfigError && e.issues[0]?.path === 'grpc.port',
  );
});

test('a missing config file is a ConfigError, not a crash', () => {
  assert.throws(
    () => loadConfig({ schema, env: { SIE_CONFIG: '/nonexistent/sie.yaml' }, argv: [] }),
    ConfigError,
  );
});

test('environment names are derived from paths', () => {
  assert.equal(envNameFor(['grpc', 'maxMessageBytes'], 'SIE_'), 'SIE_GRPC__MAX_MESSAGE_BYTES');
  assert.equal(envNameFor(['nodeId'], 'SIE_'), 'SIE_NODE_ID');
});

test('rejectUnknownEnv: a misspelt variable or an alias for a missing key fails, by name', () => {
  const env = {
    SIE_GRPC__PORT: '1',
    SIE_GRPC__PROT: '2',
    NATS_URL: 'nats://x:4222',
    DATABASE_URL: 'postgres://db',
    SIE_CONFIG: '',
    PATH: '/bin',
  };
  const aliases = { NATS_URL: 'nats.url', DATABASE_URL: 'databaseUrl' };
  // Off (services): ignored, as before.
  assert.equal(loadConfig({ schema, env, argv: [], envAliases: aliases }).grpc.port, 1);
  assert.throws(
    () => loadConfig({ schema, env, argv: [], envAliases: aliases, rejectUnknownEnv: true }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ['NATS_URL', 'SIE_GRPC__PROT'],
      );
      return true;
    },
  );
  const { SIE_GRPC__PROT: _, NATS_URL: __, ...good } = env;
  const config = loadConfig({
    schema,
    env: good,
    argv: [],
    envAliases: aliases,
    rejectUnknownEnv: true,
  });
  assert.equal(config.databaseUrl, 'postgres://db');
});
