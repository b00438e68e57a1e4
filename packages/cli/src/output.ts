import type { Writable } from 'node:stream';

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface Io {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** One line of human output on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** The one JSON document of a `--json` command. */
  document(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON line (streams: events tail). */
  jsonLine(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A message for the person at the terminal; never mixed into stdout. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  table(headers: string[], rows: string[][], empty = '(none)'): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    this.io.stdout.write(table(headers, rows));
  }
}

/**
 * Columns padded to their widest cell, two spaces apart; the last one is not padded. No header
 * row when `headers` is empty.
 */
export function table(headers: string[], rows: string[][]): string {
  const all = headers.length > 0 ? [headers, ...rows] : rows;
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...all.map((r) => (r[i] ?? '').length)),
  );
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join('');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** An ISO time to the second, or `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const dash = (v: unknown): string =>
  v === null || v === undefined || v === '' ? '-' : String(v);
