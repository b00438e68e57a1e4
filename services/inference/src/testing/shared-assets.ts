import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's shared test assets (models, media): `SIE_SHARED_DIR`, else `<repo>/../shared`.
 * This file runs from services/inference/dist/testing/, five levels below the repo's parent.
 */
export function sharedDir(): string {
  return (
    process.env.SIE_SHARED_DIR ?? fileURLToPath(new URL('../../../../../shared/', import.meta.url))
  );
}

/** A shared asset's path; a missing asset fails the test (never skips it) and says where to look. */
export function sharedFile(...parts: string[]): string {
  const path = join(sharedDir(), ...parts);
  if (!existsSync(path)) {
    throw new Error(
      `test asset missing: ${path}. Point SIE_SHARED_DIR at the shared folder (models/, media/).`,
    );
  }
  return path;
}
