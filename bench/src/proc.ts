/**
 * CPU time and memory of processes from /proc, for processes this bench did not run in-process
 * (the services, their ffmpeg children, nats-server).
 *
 * A process's utime + stime + cutime + cstime counts its own threads and every child it has
 * reaped, so summing that over a live process tree at two instants gives the CPU the tree used in
 * between, including children that started and exited in the meantime (their time moves into
 * their parent's cutime when it reaps them).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

function getconf(name: string, fallback: number): number {
  try {
    const n = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

export const CLOCK_TICKS = getconf('CLK_TCK', 100);
export const PAGE_SIZE = getconf('PAGESIZE', 4096);

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** Own user + system CPU seconds (all threads). */
  ownCpu: number;
  /** CPU seconds of reaped children (cutime + cstime). */
  childCpu: number;
  rssBytes: number;
}

export function readProcStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces and parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5).
  const field = (n: number): number => Number(fields[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    ppid: field(4),
    comm: text.slice(open + 1, close),
    ownCpu: (field(14) + field(15)) / CLOCK_TICKS,
    childCpu: (field(16) + field(17)) / CLOCK_TICKS,
    rssBytes: field(24) * PAGE_SIZE,
  };
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** A process and its live descendants at one instant. */
export interface ProcessTree {
  root: ProcStat;
  descendants: ProcStat[];
}

/** The trees rooted at `roots` (a root that has exited is missing from the result). */
export function sampleTrees(roots: readonly number[]): Map<number, ProcessTree> {
  const all = allProcesses();
  const children = new Map<number, ProcStat[]>();
  const byPid = new Map<number, ProcStat>();
  for (const p of all) {
    byPid.set(p.pid, p);
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out = new Map<number, ProcessTree>();
  for (const pid of roots) {
    const root = byPid.get(pid);
    if (!root) continue;
    const descendants: ProcStat[] = [];
    const queue = [...(children.get(pid) ?? [])];
    while (queue.length > 0) {
      const p = queue.shift() as ProcStat;
      descendants.push(p);
      queue.push(...(children.get(p.pid) ?? []));
    }
    out.set(pid, { root, descendants });
  }
  return out;
}

/** Own CPU of the root; CPU of its children, live (own + reaped) and reaped by the root. */
export interface TreeCpu {
  own: number;
  children: number;
}

export function treeCpu(tree: ProcessTree | undefined): TreeCpu {
  if (!tree) return { own: 0, children: 0 };
  let children = tree.root.childCpu;
  for (const d of tree.descendants) children += d.ownCpu + d.childCpu;
  return { own: tree.root.ownCpu, children };
}

/** CPU seconds of reaped children of this process: ffmpeg runs started by the floor benchmark. */
export function selfChildrenCpuSeconds(): number {
  return readProcStat('self')?.childCpu ?? 0;
}
