import { SieError } from '@sie/errors';

/** A program a server needs is not installed (nats-server, the Postgres binaries). */
export class BinaryNotFoundError extends SieError {
  readonly code = 'binary_not_found';
  constructor(
    readonly binary: string,
    readonly installHint: string,
    options?: { cause?: unknown },
  ) {
    super(`${binary} not found; install it with \`${installHint}\``, options);
  }
  override details(): Record<string, string> {
    return { binary: this.binary, installHint: this.installHint };
  }
}

/** A local server did not come up (exited early, refused to start, or data dir in use). */
export class ServerStartError extends SieError {
  readonly code = 'server_start_failed';
  constructor(
    readonly server: string,
    message: string,
    /** The last lines the server wrote, often the only explanation. */
    readonly outputTail = '',
    options?: { cause?: unknown },
  ) {
    super(
      outputTail
        ? `${server}: ${message}\n--- output tail ---\n${outputTail}`
        : `${server}: ${message}`,
      options,
    );
  }
  override details(): Record<string, string> {
    return { server: this.server };
  }
}

/** A test asset (model, video, image) is in none of the places assets are looked up. */
export class AssetNotFoundError extends SieError {
  readonly code = 'asset_not_found';
  constructor(
    readonly relPath: string,
    readonly searched: string[],
    options?: { cause?: unknown },
  ) {
    super(
      `asset ${JSON.stringify(relPath)} not found (looked in: ${searched.join(', ')}); ` +
        'run `pnpm setup` to download the test assets into .cache/assets, or set SIE_SHARED_DIR',
      options,
    );
  }
  override details(): Record<string, string> {
    return { relPath: this.relPath, searched: this.searched.join(',') };
  }
}
