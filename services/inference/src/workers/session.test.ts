import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelError } from '@sie/errors';
import { sharedFile } from '../testing/shared-assets.js';
import { openSession } from './session.js';

const model = (): string => sharedFile('models', 'yolox_nano_coco.onnx');
const base = { modelId: 'm', intraOpThreads: 1, cpuFallback: true } as const;

test('CUDA without its provider libraries falls back to the CPU and says why', async (t) => {
  const opened = await openSession({ ...base, path: model(), executionProvider: 'cuda' });
  await opened.session.release();
  if (opened.executionProvider === 'cuda') {
    t.skip('this machine has a working CUDA provider');
    return;
  }
  assert.equal(opened.executionProvider, 'cpu');
  assert.match(opened.warning ?? '', /CUDA execution provider unavailable/);
});

test('CUDA without fallback fails with a ModelError naming CUDA', async (t) => {
  try {
    const opened = await openSession({
      ...base,
      path: model(),
      executionProvider: 'cuda',
      cpuFallback: false,
    });
    await opened.session.release();
    t.skip('this machine has a working CUDA provider');
  } catch (err) {
    assert.ok(err instanceof ModelError);
    assert.match(err.message, /CUDA execution provider unavailable/);
  }
});

test('a missing file and a file that is not ONNX are ModelErrors that say so', async () => {
  await assert.rejects(
    openSession({ ...base, path: '/nonexistent/x.onnx', executionProvider: 'cpu' }),
    (e: unknown) => e instanceof ModelError && /cannot be read/.test(e.message),
  );
  const junk = join(mkdtempSync(join(tmpdir(), 'sie-junk-')), 'x.onnx');
  writeFileSync(junk, randomBytes(1000));
  await assert.rejects(
    openSession({ ...base, path: junk, executionProvider: 'cpu' }),
    (e: unknown) => e instanceof ModelError && /not an ONNX model/.test(e.message),
  );
});
