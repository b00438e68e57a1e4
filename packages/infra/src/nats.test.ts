import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryNotFoundError, ServerStartError, findFreePort, startNats } from './index.js';

/** Reads the first line the server sends: NATS greets every client with `INFO {...}`. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    socket.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        socket.destroy();
        resolve(buf.slice(0, nl).trim());
      }
    });
    socket.once('error', reject);
  });
}

test('nats-server starts with JetStream, greets a raw client, and stops', async () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'sie-nats-'));
  const [port, monitorPort] = [await findFreePort(), await findFreePort()];
  const lines: string[] = [];
  const nats = await startNats({ port, storeDir, monitorPort, log: (l) => lines.push(l) });
  try {
    assert.equal(nats.url, `nats://127.0.0.1:${port}`);
    const info = await firstLine(port);
    assert.match(info, /^INFO \{/);
    const parsed = JSON.parse(info.slice(5)) as { port: number; jetstream?: boolean };
    assert.equal(parsed.port, port);
    assert.equal(parsed.jetstream, true);
    const health = await fetch(`${nats.monitorUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.ok(lines.some((l) => l.startsWith('nats-server: ')));
  } finally {
    await nats.stop();
    rmSync(storeDir, { recursive: true, force: true });
  }
  assert.notEqual(nats.process.exitCode ?? nats.process.signalCode, null);
  await nats.stop(); // idempotent
});

test('a second server on a taken port fails with its own stderr', async () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'sie-nats-'));
  const port = await findFreePort();
  const first = await startNats({ port, storeDir: join(storeDir, 'a') });
  try {
    await assert.rejects(
      startNats({ port, storeDir: join(storeDir, 'b') }),
      (e: unknown) => e instanceof ServerStartError && /exited during startup/.test(e.message),
    );
  } finally {
    await first.stop();
    rmSync(storeDir, { recursive: true, force: true });
  }
});

test('a missing binary names the apt package', async () => {
  await assert.rejects(
    startNats({ port: 1, storeDir: tmpdir(), bin: 'nats-server-not-installed' }),
    (e: unknown) =>
      e instanceof BinaryNotFoundError && e.message.includes('apt-get install nats-server'),
  );
});
