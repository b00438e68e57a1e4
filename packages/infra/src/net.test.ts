import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { TimeoutError } from '@sie/errors';
import { findFreePort, waitForHttp, waitForTcp } from './index.js';

test('waitForTcp resolves once a listener appears and times out otherwise', async () => {
  const port = await findFreePort();
  await assert.rejects(waitForTcp('127.0.0.1', port, 300), TimeoutError);
  const server = createServer((s) => s.end());
  setTimeout(() => server.listen(port, '127.0.0.1'), 200);
  await waitForTcp('127.0.0.1', port, 5000);
  await new Promise((r) => server.close(r));
});

test('waitForHttp waits for a 2xx answer', async () => {
  let ok = false;
  const server = createHttpServer((_req, res) => {
    res.statusCode = ok ? 200 : 503;
    res.end();
  });
  const port = await findFreePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  setTimeout(() => (ok = true), 300);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 5000);
  const closed = await findFreePort();
  await assert.rejects(waitForHttp(`http://127.0.0.1:${closed}/`, 300), TimeoutError);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
