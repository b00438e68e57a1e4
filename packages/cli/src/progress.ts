import { formatBytes } from './output.js';

/**
 * A one-line progress bar on a terminal: bar, percentage, bytes done / total and the average
 * rate. Redrawn at most ten times a second; `done` leaves the final line in place.
 */
export class ProgressBar {
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private bytes = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly total: number,
    private readonly label: string,
  ) {}

  update(bytes: number): void {
    this.bytes = bytes;
    const now = Date.now();
    if (now - this.lastDraw < 100 && bytes < this.total) return;
    this.lastDraw = now;
    this.draw(now);
  }

  done(): void {
    this.draw(Date.now());
    this.stream.write('\n');
  }

  private draw(now: number): void {
    this.stream.write(
      `\r${progressLine(this.label, this.bytes, this.total, now - this.startedAt)}`,
    );
  }
}

/** `label [#####-----]  42%  1.2 MB / 3.1 MB  800.0 KB/s` */
export function progressLine(
  label: string,
  bytes: number,
  total: number,
  elapsedMs: number,
): string {
  const share = total > 0 ? Math.min(1, bytes / total) : 1;
  const width = 24;
  const filled = Math.round(share * width);
  const rate = elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
  return (
    `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
    `${String(Math.floor(share * 100)).padStart(3)}%  ${formatBytes(bytes)} / ${formatBytes(total)}  ` +
    `${formatBytes(rate)}/s`
  );
}
