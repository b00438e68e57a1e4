import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

interface ProcStat {
  state: string;
  pgrp: number;
}

/** `/proc/<pid>/stat` → state and process group; undefined when gone or not on Linux. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

const hasProc = (): boolean => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
};

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a live stack supervisor. A pid file can outlive its process and the pid be
 * reused (containers reuse low pids quickly), so on Linux the command line must name the
 * supervisor, and a zombie (exited, not yet reaped) does not count.
 */
export function supervisorAlive(pid: number): boolean {
  if (!hasProc()) return signalable(pid);
  const stat = procStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('supervisor.js');
  } catch {
    return false;
  }
}

/** Whether a live (non-zombie) process, of any program, has this pid. */
export function pidInUse(pid: number): boolean {
  if (!hasProc()) return signalable(pid);
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * Live (non-zombie) processes of process group `pgid`. The supervisor leads its own group
 * (it is spawned detached) and its children inherit it, so these are what is left of a stack
 * whose supervisor died. Where /proc is missing it can only say whether the group exists.
 */
export function liveGroupMembers(pgid: number): number[] {
  if (!hasProc()) return signalable(-pgid) ? [pgid] : [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') {
      out.push(Number(entry));
    }
  }
  return out;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Polls `done` every 100 ms until it is true or `timeoutMs` passes; returns the last answer. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done()) return true;
    await sleep(100);
  }
  return done();
}

/**
 * Stops what a dead supervisor left behind (its process group): SIGTERM, then SIGKILL after
 * `graceMs`. Returns how many processes were found. Only while no live process has the
 * supervisor's old pid: Linux does not hand out a pid still used as a group id, so the group
 * is then certainly the old stack's; a live process with that pid may lead a group of its own.
 */
export async function reapGroup(pgid: number, graceMs: number): Promise<number> {
  if (pidInUse(pgid)) return 0;
  const found = liveGroupMembers(pgid).length;
  if (found === 0) return 0;
  signalGroup(pgid, 'SIGTERM');
  if (!(await waitUntil(() => liveGroupMembers(pgid).length === 0, graceMs))) {
    signalGroup(pgid, 'SIGKILL');
    await waitUntil(() => liveGroupMembers(pgid).length === 0, 5000);
  }
  return found;
}
