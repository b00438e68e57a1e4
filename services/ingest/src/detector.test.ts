import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PixelFormat, type FrameRef } from '@sie/contracts';
import { ModelNotFoundError, TimeoutError, UnavailableError } from '@sie/errors';
import { findFreePort } from '@sie/infra';
import { context } from '@sie/telemetry';
import { GrpcDetector, type DetectCall } from './index.js';
import { FakeInferenceForTest } from './testing/fake-inference.js';

const frame: FrameRef = {
  runId: 'r1',
  seq: 9,
  slot: 0,
  captureTimeMs: 0,
  ptsMs: 0,
  width: 2,
  height: 2,
  pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
  store: 'run-r1',
  byteLength: 12,
  generation: 0,
};

const call = (modelId: string): DetectCall => ({ modelId, frame, scoreThreshold: 0, classes: [] });

let dir: string;
let fake: FakeInferenceForTest;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sie-detector-test-'));
  fake = await FakeInferenceForTest.start({
    frameStoreDir: dir,
    unknownModels: ['gone'],
    unavailableModels: ['busy'],
    delayMs: { slow: 1000 },
  });
});

after(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the service's errors come back as their own classes (rebuilt from the trailers)", async () => {
  const detector = new GrpcDetector({ url: fake.url, timeoutMs: 2000 });
  try {
    await assert.rejects(
      detector.detect(call('gone'), context.active()),
      (e: unknown) => e instanceof ModelNotFoundError && e.modelId === 'gone',
    );
    await assert.rejects(
      detector.detect(call('busy'), context.active()),
      (e: unknown) => e instanceof UnavailableError && /fake inference/.test(e.message),
    );
    assert.equal(detector.health(), 'ok');
  } finally {
    detector.close();
  }
});

test('a missed deadline is a timeout and nothing listening is unavailable', async () => {
  const slow = new GrpcDetector({ url: fake.url, timeoutMs: 100 });
  const nowhere = new GrpcDetector({ url: `127.0.0.1:${await findFreePort()}`, timeoutMs: 2000 });
  try {
    await assert.rejects(
      slow.detect(call('slow'), context.active()),
      (e: unknown) => e instanceof TimeoutError && e.operation === 'Detect' && e.timeoutMs === 100,
    );
    await assert.rejects(
      nowhere.detect(call('m'), context.active()),
      (e: unknown) => e instanceof UnavailableError,
    );
  } finally {
    slow.close();
    nowhere.close();
  }
});
