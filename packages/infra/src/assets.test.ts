import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvalidArgumentError } from '@sie/errors';
import { AssetNotFoundError, findRepoRoot, resolveSharedAsset } from './index.js';

test('the repo root is the directory holding pnpm-workspace.yaml', () => {
  assert.match(findRepoRoot(), /[^/]$/);
  assert.equal(findRepoRoot(join(findRepoRoot(), 'packages', 'infra')), findRepoRoot());
});

test('SIE_SHARED_DIR is searched first; a missing asset names the download step', () => {
  const saved = process.env['SIE_SHARED_DIR'];
  const dir = mkdtempSync(join(tmpdir(), 'sie-shared-'));
  mkdirSync(join(dir, 'media'));
  writeFileSync(join(dir, 'media', 'x.jpg'), 'x');
  process.env['SIE_SHARED_DIR'] = dir;
  try {
    assert.equal(resolveSharedAsset('media/x.jpg'), join(dir, 'media', 'x.jpg'));
    assert.throws(
      () => resolveSharedAsset('media/not-there.avi'),
      (e: unknown) => e instanceof AssetNotFoundError && e.message.includes('pnpm setup'),
    );
    assert.throws(() => resolveSharedAsset('../etc/passwd'), InvalidArgumentError);
  } finally {
    if (saved === undefined) delete process.env['SIE_SHARED_DIR'];
    else process.env['SIE_SHARED_DIR'] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
