import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

export interface PostmasterPid {
  pid: number;
  port: number;
}

/** Reads `postmaster.pid` (line 1: pid, line 4: port); undefined when absent or unreadable. */
export function readPostmasterPid(dataDir: string): PostmasterPid | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  return Number.isFinite(pid) && pid > 0
    ? { pid, port: Number.isFinite(port) ? port : 0 }
    : undefined;
}

export function removePostmasterPid(dataDir: string): void {
  rmSync(join(dataDir, 'postmaster.pid'), { force: true });
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to walk down to the data dir.
 * A temp dir from mkdtemp (mode 0700) above it is the usual culprit; naming it beats initdb's
 * "could not change directory" deep in its output. Returns the first blocking ancestor.
 */
export function untraversableAncestor(dataDir: string): string | undefined {
  let dir = dirname(dataDir);
  for (;;) {
    try {
      const st = statSync(dir);
      if ((st.mode & 0o001) === 0) return dir;
    } catch {
      // Missing ancestors are created by mkdir with the default (traversable) mode.
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Lets the postgres user reach `dataDir`. Temp dirs (mkdtemp makes them 0700) get o+x, traverse
 * only, which is what every test that puts a cluster in a temp dir needs; any other blocking
 * directory is the caller's to fix, so it is named instead of changed.
 */
export function openPathForPostgres(
  dataDir: string,
  log?: (line: string) => void,
): string | undefined {
  const tmp = resolve(tmpdir());
  let last: string | undefined;
  for (;;) {
    const blocked = untraversableAncestor(dataDir);
    if (!blocked) return undefined;
    const rel = relative(tmp, blocked);
    if (!rel || rel.startsWith('..') || blocked === last) return blocked;
    last = blocked;
    chmodSync(blocked, statSync(blocked).mode | 0o001);
    log?.(`postgres: made ${blocked} traversable (o+x) for the postgres user`);
  }
}
