import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelError } from '@sie/errors';
import { createLogger } from '@sie/telemetry';
import type { ModelIo } from './model-io.js';
import { ModelRegistry, type ModelPool } from './registry.js';
import { parseModelConfig, type ModelConfig } from './spec.js';

const dir = mkdtempSync(join(tmpdir(), 'sie-registry-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const io: ModelIo = {
  inputName: 'images',
  inputShape: [1, 3, 416, 416],
  outputName: 'output',
  outputShape: [1, 3549, 85],
  executionProvider: 'cpu',
};

/** Records what the registry asks of the workers; `failNext` makes the next load fail. */
class FakePool implements ModelPool {
  readonly loads: string[] = [];
  readonly unloads: string[] = [];
  failNext = false;
  load(key: string, _config: ModelConfig): Promise<{ io: ModelIo; warning: string | null }> {
    this.loads.push(key);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new ModelError('not an ONNX model', key));
    }
    return Promise.resolve({ io, warning: null });
  }
  unload(key: string): void {
    this.unloads.push(key);
  }
}

test('loading what is already served is a no-op; another option, file or a failure loads again', async () => {
  const path = join(dir, 'm.onnx');
  writeFileSync(path, 'model bytes');
  const pool = new FakePool();
  const registry = new ModelRegistry(pool, createLogger({ service: 'test', level: 'silent' }));
  const config = parseModelConfig({ id: 'm', path });

  const first = await registry.load(config);
  const again = await registry.load(parseModelConfig({ id: 'm', path }));
  assert.equal(again.key, first.key);
  assert.deepEqual(pool.loads, ['m#1'], 'an identical spec creates no new sessions');

  const other = await registry.load(parseModelConfig({ id: 'm', path, nmsIou: 0.6 }));
  assert.notEqual(other.key, first.key);
  assert.deepEqual(pool.unloads, ['m#1'], 'the previous generation is released');

  // The same path with new content (a replaced file): size and mtime differ, so it reloads.
  writeFileSync(path, 'other model bytes');
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  const replaced = await registry.load(parseModelConfig({ id: 'm', path, nmsIou: 0.6 }));
  assert.notEqual(replaced.key, other.key);
  assert.equal(pool.loads.length, 3);

  // A failed reload keeps serving; the next identical load is still a no-op.
  pool.failNext = true;
  await assert.rejects(registry.load(parseModelConfig({ id: 'm', path, nmsIou: 0.7 })), ModelError);
  assert.equal(registry.ready('m').key, replaced.key);
  await registry.load(parseModelConfig({ id: 'm', path, nmsIou: 0.6 }));
  assert.equal(pool.loads.length, 4);
});

test('a model whose load failed is loaded again, not answered from the failure', async () => {
  const path = join(dir, 'broken.onnx');
  writeFileSync(path, 'junk');
  const pool = new FakePool();
  const registry = new ModelRegistry(pool, createLogger({ service: 'test', level: 'silent' }));
  const config = parseModelConfig({ id: 'b', path });
  pool.failNext = true;
  await assert.rejects(registry.load(config), ModelError);
  assert.equal(registry.get('b')?.state, 'failed');
  await registry.load(config);
  assert.equal(registry.get('b')?.state, 'ready');
  assert.equal(pool.loads.length, 2);
});

test('a model still loading is unavailable (retry), not a model error (give up)', async () => {
  const path = join(dir, 'slow.onnx');
  writeFileSync(path, 'model bytes');
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const pool = new FakePool();
  const slow: ModelPool = {
    load: async (key, config) => {
      await gate;
      return pool.load(key, config);
    },
    unload: (key) => pool.unload(key),
  };
  const registry = new ModelRegistry(slow, createLogger({ service: 'test', level: 'silent' }));
  const loading = registry.load(parseModelConfig({ id: 'slow', path }));
  await new Promise((r) => setTimeout(r, 20));
  assert.throws(() => registry.ready('slow'), { code: 'unavailable' });
  release();
  await loading;
  assert.equal(registry.ready('slow').state, 'ready');
});
