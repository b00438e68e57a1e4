import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createMetricsRegistry } from './index.js';
import { parseNvidiaSmi, startGpuMetrics } from './gpu-metrics.js';

const H100 = '0, NVIDIA H100 80GB HBM3, 37, 1024, 81559\n1, NVIDIA H100 80GB HBM3, 0, 5, 81559\n';

test('nvidia-smi CSV becomes one sample per GPU, in ratios and bytes', () => {
  const samples = parseNvidiaSmi(H100);
  assert.equal(samples.length, 2);
  assert.deepEqual(samples[0], {
    index: '0',
    name: 'NVIDIA H100 80GB HBM3',
    utilizationRatio: 0.37,
    memoryUsedBytes: 1024 * 1024 * 1024,
    memoryTotalBytes: 81559 * 1024 * 1024,
  });
  assert.deepEqual(parseNvidiaSmi('[N/A], x, [N/A], 1, 2\ngarbage\n'), []);
});

test('the poller publishes the gauges (a script stands in for nvidia-smi on a machine without a GPU)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sie-smi-'));
  const fake = join(dir, 'nvidia-smi');
  writeFileSync(fake, `#!/bin/sh\nprintf '${H100.replace(/\n/g, '\\n')}'\n`);
  chmodSync(fake, 0o755);
  const registry = createMetricsRegistry('unit');
  const poller = startGpuMetrics({
    registry,
    logger: createLogger({ service: 'unit', level: 'silent' }),
    command: fake,
    intervalMs: 50,
  });
  await sleep(300);
  poller.stop();
  const text = await registry.metrics();
  assert.match(
    text,
    /sie_gpu_utilization_ratio\{gpu="0",name="NVIDIA H100 80GB HBM3",service="unit"\} 0.37/,
  );
  assert.match(text, /sie_gpu_memory_total_bytes\{gpu="1",/);
});

test('without nvidia-smi the poller stops quietly', async () => {
  const registry = createMetricsRegistry('unit');
  const poller = startGpuMetrics({
    registry,
    logger: createLogger({ service: 'unit', level: 'silent' }),
    command: '/nonexistent/nvidia-smi',
    intervalMs: 20,
  });
  await sleep(100);
  poller.stop();
  assert.doesNotMatch(await registry.metrics(), /sie_gpu_utilization_ratio\{/);
});
