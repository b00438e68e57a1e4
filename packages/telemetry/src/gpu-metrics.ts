import { execFile } from 'node:child_process';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface GpuSample {
  index: string;
  name: string;
  utilizationRatio: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

const MIB = 1024 * 1024;

/** The query `nvidia-smi` answers, one CSV line per GPU. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
];

/** Parses `nvidia-smi` CSV output (see NVIDIA_SMI_ARGS); lines it cannot read are skipped. */
export function parseNvidiaSmi(csv: string): GpuSample[] {
  const out: GpuSample[] = [];
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 5) continue;
    const [index, name, util, used, total] = cells as [string, string, string, string, string];
    const numbers = [util, used, total].map(Number);
    if (numbers.some((n) => !Number.isFinite(n))) continue;
    out.push({
      index,
      name,
      utilizationRatio: (numbers[0] ?? 0) / 100,
      memoryUsedBytes: (numbers[1] ?? 0) * MIB,
      memoryTotalBytes: (numbers[2] ?? 0) * MIB,
    });
  }
  return out;
}

export interface GpuMetricsOptions {
  registry: Registry;
  logger: Logger;
  intervalMs?: number;
  /** The binary to run (tests point it elsewhere). */
  command?: string;
}

/**
 * `sie_gpu_utilization_ratio`, `sie_gpu_memory_used_bytes` and `sie_gpu_memory_total_bytes` per
 * GPU, polled from nvidia-smi. On a machine without it the poller stops after its first try.
 */
export function startGpuMetrics(options: GpuMetricsOptions): { stop(): void } {
  const labelNames = ['gpu', 'name'] as const;
  const registers = [options.registry];
  const util = new Gauge({
    name: 'sie_gpu_utilization_ratio',
    help: 'GPU utilization (0-1) as nvidia-smi reports it',
    labelNames,
    registers,
  });
  const used = new Gauge({
    name: 'sie_gpu_memory_used_bytes',
    help: 'GPU memory in use',
    labelNames,
    registers,
  });
  const total = new Gauge({
    name: 'sie_gpu_memory_total_bytes',
    help: 'GPU memory on the device',
    labelNames,
    registers,
  });
  const poll = (): void => {
    execFile(options.command ?? 'nvidia-smi', NVIDIA_SMI_ARGS, { timeout: 5000 }, (err, stdout) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          options.logger.info('no nvidia-smi on this machine: no GPU metrics');
          clearInterval(timer);
        } else {
          options.logger.warn({ err }, 'nvidia-smi failed');
        }
        return;
      }
      for (const g of parseNvidiaSmi(stdout)) {
        const labels = { gpu: g.index, name: g.name };
        util.set(labels, g.utilizationRatio);
        used.set(labels, g.memoryUsedBytes);
        total.set(labels, g.memoryTotalBytes);
      }
    });
  };
  const timer = setInterval(poll, options.intervalMs ?? 5000);
  timer.unref();
  poll();
  return { stop: () => clearInterval(timer) };
}
