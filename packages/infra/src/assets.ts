import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@sie/errors';
import { AssetNotFoundError } from './errors.js';

/** The directory holding pnpm-workspace.yaml, walking up from `from` (default: this file). */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new InvalidArgumentError(`no pnpm-workspace.yaml above ${from}`, 'from');
    }
    dir = parent;
  }
}

/** Directories searched for test assets, in order. */
export function sharedAssetDirs(): string[] {
  const root = findRepoRoot();
  const env = process.env['SIE_SHARED_DIR'];
  return [
    // Developer machines and CI keep the assets beside the checkout; SIE_SHARED_DIR overrides that.
    env ? resolve(env) : resolve(root, '..', 'shared'),
    // Some runners copy the folder into the checkout instead.
    join(root, 'shared'),
    // Where `pnpm setup` downloads the assets when there is no shared folder (a user's machine).
    join(root, '.cache', 'assets'),
  ];
}

/**
 * Absolute path of a test asset such as `models/yolox_nano_coco.onnx` or `media/vtest.avi`.
 * Throws AssetNotFoundError (naming `pnpm setup`) when none of `sharedAssetDirs()` has it.
 */
export function resolveSharedAsset(relPath: string): string {
  const rel = normalize(relPath);
  if (isAbsolute(rel) || rel === '..' || rel.startsWith('../')) {
    throw new InvalidArgumentError(`asset path must be relative: ${relPath}`, 'relPath');
  }
  const searched = [...new Set(sharedAssetDirs())];
  for (const dir of searched) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
  }
  throw new AssetNotFoundError(relPath, searched);
}
