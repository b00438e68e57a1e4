import { spawnSync } from 'node:child_process';
import { findNatsServer } from '@sie/infra';

/** Debian packages the stack runs, and how to tell each is present. */
const NEEDED: Array<{ pkg: string; present: () => boolean }> = [
  { pkg: 'nats-server', present: () => tryFind(() => findNatsServer()) },
  { pkg: 'ffmpeg', present: () => onPath('ffmpeg') && onPath('ffprobe') },
];

/**
 * Installs the missing system packages with apt (as root, or through sudo) so `stack:up` works
 * on a machine that only has Node.js. Returns an error message when that is not possible.
 */
export function ensureSystemPackages(progress: (line: string) => void): string | undefined {
  const missing = NEEDED.filter((n) => !n.present()).map((n) => n.pkg);
  if (missing.length === 0) return undefined;
  progress(`installing ${missing.join(', ')} with apt-get`);
  const root = process.getuid?.() === 0;
  const run = (args: string[]): boolean => {
    const [cmd, ...rest] = root ? args : ['sudo', ...args];
    const r = spawnSync(cmd ?? 'apt-get', rest, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return r.status === 0;
  };
  if (
    !run(['apt-get', 'update', '-qq']) ||
    !run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing])
  ) {
    return `could not install ${missing.join(', ')}: run 'apt-get install ${missing.join(' ')}' and try again`;
  }
  return undefined;
}

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function tryFind(find: () => string): boolean {
  try {
    find();
    return true;
  } catch {
    return false;
  }
}
