import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the stack keeps its state, all under the data dir. */
export interface StackPaths {
  dataDir: string;
  postgres: string;
  nats: string;
  logs: string;
  /** `{ state, pid, endpoints, services, error? }`, rewritten as the stack changes. */
  stateFile: string;
  /** The supervisor's pid while it runs. */
  pidFile: string;
  supervisorLog: string;
}

export function stackPaths(dataDir: string): StackPaths {
  const logs = join(dataDir, 'logs');
  return {
    dataDir,
    postgres: join(dataDir, 'postgres'),
    nats: join(dataDir, 'nats'),
    logs,
    stateFile: join(dataDir, 'stack.json'),
    pidFile: join(dataDir, 'stack.pid'),
    supervisorLog: join(logs, 'supervisor.log'),
  };
}

export const serviceLogFile = (paths: StackPaths, name: string): string =>
  join(paths.logs, `${name}.log`);

/** The workspace root (the directory with pnpm-workspace.yaml) above this file. */
export function repoRootFromHere(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
    dir = parent;
  }
}

/** The compiled supervisor entry point, next to this file in dist/. */
export const supervisorEntry = (): string =>
  join(dirname(fileURLToPath(import.meta.url)), 'supervisor.js');
