import { readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { ConfigError } from '@sie/errors';
import { repoRootFromHere } from './paths.js';
import { loadStackConfig, type StackConfig } from './stack-config.js';

/** Human progress for the person at the terminal; stdout stays free for the result line. */
export function progress(line: string): void {
  process.stderr.write(`[stack] ${line}\n`);
}

/** The machine-readable result: one JSON object, the last line on stdout. */
export function printResult(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The stack's configuration; on an invalid environment, says which variable and exits 2. */
export function cliConfig(): StackConfig {
  try {
    return loadStackConfig({ env: process.env, repoRoot: repoRootFromHere(), cwd: process.cwd() });
  } catch (err) {
    if (err instanceof ConfigError) {
      progress(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** The last `lines` lines of a text file (read from its last 64 KiB); [] when unreadable. */
export function tailLines(file: string, lines = 40): string[] {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 64 * 1024);
    let text: string;
    if (length === size) {
      text = readFileSync(file, 'utf8');
    } else {
      const fd = openSync(file, 'r');
      try {
        const buf = Buffer.alloc(length);
        readSync(fd, buf, 0, length, size - length);
        text = buf.toString('utf8');
      } finally {
        closeSync(fd);
      }
    }
    return text
      .split('\n')
      .filter((l, i, all) => l !== '' || i < all.length - 1)
      .slice(-lines);
  } catch {
    return [];
  }
}

/** Where the service's latest start begins in its log (the supervisor writes a header there). */
const START_HEADER = /^--- \S+ stack: starting /;

/**
 * Prints the end of a log to stderr: the latest run only (from its start header), at most
 * `lines` lines, each cut to 600 characters (a JSON stack trace is one very long line).
 */
export function showTail(title: string, file: string, lines = 25): void {
  let tail = tailLines(file, 400);
  const start = tail.findLastIndex((l) => START_HEADER.test(l));
  if (start >= 0) tail = tail.slice(start);
  tail = tail.slice(-lines).map((l) => (l.length > 600 ? `${l.slice(0, 600)} …` : l));
  if (tail.length === 0) {
    progress(`(${file} is empty or missing)`);
    return;
  }
  process.stderr.write(`----- ${title}: ${file} (last ${tail.length} lines) -----\n`);
  process.stderr.write(`${tail.join('\n')}\n`);
  process.stderr.write(`----- end of ${title} -----\n`);
}
