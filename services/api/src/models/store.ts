import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Model files on disk, named by their sha256 (`<dir>/<hash>.onnx`): a client never chooses a
 * path, and one file serves every tenant that uploads the same bytes. Uploads are written under
 * `<dir>/tmp` first (same filesystem, so the final rename is atomic).
 */
export class ModelStore {
  readonly tmpDir: string;

  constructor(readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
  }

  /** A new, unused temp path for an upload. */
  tempPath(): string {
    return join(this.tmpDir, `upload-${randomBytes(12).toString('hex')}.part`);
  }

  pathFor(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, `${sha256}.onnx`);
  }

  /**
   * Moves a validated upload to its content address. `created` is false when the file was
   * already there (same bytes): it is then replaced by an identical copy.
   */
  async commit(tempPath: string, sha256: string): Promise<{ path: string; created: boolean }> {
    const path = this.pathFor(sha256);
    const existed = await exists(path);
    await chmod(tempPath, 0o444);
    await rename(tempPath, path);
    return { path, created: !existed };
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
