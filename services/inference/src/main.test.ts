import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DetectResponse } from '@sie/contracts';
import { DetectRequest } from '@sie/contracts';
import { TestClient } from './testing/client.js';
import { sharedFile } from './testing/shared-assets.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

interface Started {
  child: ChildProcess;
  grpcPort: number;
  opsPort: number;
  exit: Promise<number | null>;
}

/** Runs `node dist/main.js` and waits for its "started" log line, collecting the ports. */
function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let grpcPort = 0;
    let opsPort = 0;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const rec = JSON.parse(line) as { msg?: string; port?: number };
      if (rec.msg === 'inference gRPC listening') grpcPort = rec.port ?? 0;
      if (rec.msg?.startsWith('ops endpoint listening')) opsPort = rec.port ?? 0;
      if (rec.msg === 'inference started') resolve({ child, grpcPort, opsPort, exit });
    });
    void exit.then((code) => reject(new Error(`main.js exited early with ${code}`)));
  });
}

test('main.js serves gRPC and /healthz, and drains open streams on SIGTERM before exiting 0', async () => {
  const s = await startMain({
    SIE_GRPC__PORT: '0',
    SIE_OPS__PORT: '0',
    SIE_WORKERS__COUNT: '1',
    SIE_MODELS: JSON.stringify([
      { id: 'yolox', path: sharedFile('models', 'yolox_nano_coco.onnx') },
    ]),
  });
  const client = new TestClient(s.grpcPort);
  try {
    const health = await fetch(`http://127.0.0.1:${s.opsPort}/healthz`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { checks: Record<string, string> };
    assert.equal(body.checks.grpc, 'ok');
    assert.equal(body.checks['model:yolox'], 'ok');

    const dog = readFileSync(sharedFile('media', 'dog.jpg'));
    const req = (id: string) =>
      DetectRequest.fromPartial({
        modelId: 'yolox',
        input: { $case: 'image', image: { data: dog } },
        requestId: id,
      });
    const stream = client.inference.detectStream();
    const answers: DetectResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: DetectResponse) => {
        answers.push(r);
        if (answers.length === 1) {
          // The stream is live: ask for shutdown while a second request is on its way.
          stream.write(req('b'));
          s.child.kill('SIGTERM');
          stream.end();
        }
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(req('a'));
    await ended;
    assert.deepEqual(
      answers.map((a) => [a.requestId, a.error?.code, a.detections.length >= 3]),
      [
        ['a', undefined, true],
        ['b', undefined, true],
      ],
    );
    assert.equal(await s.exit, 0);
  } finally {
    client.close();
    s.child.kill('SIGKILL');
  }
});

test('main.js exits 2 on an invalid configuration', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SIE_GRPC__PORT: 'not-a-port' },
    stdio: 'ignore',
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
});
