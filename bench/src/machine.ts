import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { env as ortEnv } from 'onnxruntime-node';
import { findNatsServer } from '@sie/infra';

export interface MachineInfo {
  cpuModel: string;
  /** What the engine sizes its worker pools by (os.availableParallelism()). */
  cores: number;
  logicalCpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  ffmpeg: string;
  onnxruntime: string;
  natsServer: string;
  commit: string;
  /** `git status --porcelain` lines: the services may run from uncommitted sources. */
  uncommitted: string[];
  /** When each service was last compiled (dist/.tsbuildinfo): the code the pipeline points ran. */
  serviceBuilds: Record<string, string>;
}

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
}

export function machineInfo(root: string): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? '';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // Not Linux: os.cpus() it is.
  }
  let natsServer = '';
  try {
    natsServer = run(findNatsServer(), ['--version']).trim();
  } catch {
    natsServer = 'not found';
  }
  const serviceBuilds: Record<string, string> = {};
  for (const s of ['inference', 'ingest']) {
    try {
      const info = join(root, 'services', s, 'dist', '.tsbuildinfo');
      serviceBuilds[s] = statSync(info).mtime.toISOString();
    } catch {
      serviceBuilds[s] = 'not built';
    }
  }
  return {
    cpuModel,
    cores: availableParallelism(),
    logicalCpus: cpus().length,
    memoryGiB: Math.round((totalmem() / (1 << 30)) * 10) / 10,
    kernel: release(),
    node: process.version,
    ffmpeg: (run('ffmpeg', ['-hide_banner', '-version']).split('\n')[0] ?? '').replace(
      / Copyright.*/,
      '',
    ),
    onnxruntime: ortEnv.versions.node ?? ortEnv.versions.common,
    natsServer,
    commit: run('git', ['rev-parse', '--short', 'HEAD'], root).trim(),
    uncommitted: run('git', ['status', '--porcelain'], root).split('\n').filter(Boolean),
    serviceBuilds,
  };
}
