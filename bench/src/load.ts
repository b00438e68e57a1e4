/**
 * What the rest of the machine is doing. CPU seconds per frame hold up on a shared machine, but
 * frames per second and latency do not: every measurement records how many cores other processes
 * kept busy meanwhile, and the bench waits for a quiet machine before each one.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CLOCK_TICKS } from './proc.js';
import { log, sleep } from './util.js';

/** Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / CLOCK_TICKS;
}

/** Other processes busier than this (cores, on average) disturb a measurement. */
export const BUSY_CORES = 0.25;

export interface LoadMeter {
  /** Average cores that processes other than `ourCpuS`'s kept busy since the meter started. */
  otherCores(ourCpuS: number): number;
}

export function startLoadMeter(): LoadMeter {
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  return {
    otherCores: (ourCpuS) => {
      const wallS = (performance.now() - t0) / 1000;
      const other = machineBusySeconds() - busy0 - ourCpuS;
      return wallS > 0 ? Math.max(0, other / wallS) : 0;
    },
  };
}

/**
 * Waits until the machine has been nearly idle (< `maxCores` busy) for two seconds in a row, at
 * most `maxWaitS` (0: not at all); returns the busy cores of the last second. Call it while the
 * bench's own processes are idle.
 */
export async function waitForQuiet(maxWaitS: number, maxCores = BUSY_CORES): Promise<number> {
  if (maxWaitS <= 0) return Number.NaN;
  const deadline = performance.now() + maxWaitS * 1000;
  let quiet = 0;
  let last = 0;
  let warned = false;
  for (;;) {
    const b0 = machineBusySeconds();
    await sleep(1000);
    last = machineBusySeconds() - b0;
    quiet = last < maxCores ? quiet + 1 : 0;
    if (quiet >= 2) return last;
    if (performance.now() > deadline) {
      log(`machine still busy (${last.toFixed(2)} cores used by others); measuring anyway`);
      return last;
    }
    if (!warned && last >= maxCores) {
      log(`waiting for a quiet machine (${last.toFixed(2)} cores busy elsewhere)`);
      warned = true;
    }
  }
}
