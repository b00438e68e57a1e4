import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFrameStoreDir } from '@sie/framestore';
import { resolveSharedAsset } from '@sie/infra';

/** The NATS server the test runner started (tests never run without real servers). */
export function natsUrl(): string {
  const url = process.env.NATS_URL;
  if (!url)
    throw new Error('NATS_URL is not set: run the tests with `pnpm test` (it starts nats-server)');
  return url;
}

/** A frame-store directory of this test file's own, in shared memory where there is some. */
export function testFrameStoreDir(): string {
  const base = defaultFrameStoreDir().startsWith('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, 'sie-test-frames-'));
}

export const asset = (rel: string): string => resolveSharedAsset(rel);

export function yoloxModelsEnv(id = 'yolox'): string {
  return JSON.stringify([
    {
      id,
      path: asset('models/yolox_nano_coco.onnx'),
      decoder: { type: 'yolox', decodedInGraph: true },
    },
  ]);
}
