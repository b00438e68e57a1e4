import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, createLogger, createMetricsRegistry, startOpsServer } from './index.js';

test('healthz reflects checks and metrics serve the registry', async () => {
  const registry = createMetricsRegistry('unit');
  const frames = new Counter({ name: 'sie_test_frames_total', help: 'x', registers: [registry] });
  frames.inc(3);
  let nats = 'connecting';
  const ops = await startOpsServer({
    service: 'unit',
    port: 0,
    registry,
    logger: createLogger({ service: 'unit', level: 'silent' }),
    health: () => ({ checks: { nats } }),
  });
  try {
    const base = `http://127.0.0.1:${ops.port}`;
    let r = await fetch(`${base}/healthz`);
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as { checks: { nats: string } }).checks.nats, 'connecting');
    nats = 'ok';
    r = await fetch(`${base}/healthz`);
    assert.equal(r.status, 200);
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /sie_test_frames_total\{service="unit"\} 3/);
    assert.match(text, /sie_process_cpu_seconds_total/);
  } finally {
    await ops.close();
  }
});
