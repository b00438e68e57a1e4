import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SnapshotStore, expiredSnapshots } from './snapshot-store.js';

test('retention keeps the newest maxCount and nothing older than maxAgeMs', () => {
  const files = [
    { name: 'a.jpg', mtimeMs: 1000 },
    { name: 'b.jpg', mtimeMs: 5000 },
    { name: 'c.jpg', mtimeMs: 3000 },
    { name: 'd.jpg', mtimeMs: 4000 },
  ];
  assert.deepEqual(expiredSnapshots(files, { maxCount: 2, maxAgeMs: 1e9 }, 6000).sort(), [
    'a.jpg',
    'c.jpg',
  ]);
  assert.deepEqual(expiredSnapshots(files, { maxCount: 10, maxAgeMs: 2500 }, 6000).sort(), [
    'a.jpg',
    'c.jpg',
  ]);
  assert.deepEqual(expiredSnapshots(files, { maxCount: 10, maxAgeMs: 1e9 }, 6000), []);
});

test('snapshots are written whole under tenant/run, pruned on demand and by the sweep', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sie-snap-unit-'));
  try {
    const store = new SnapshotStore(root);
    await store.setRetention('t1', 'r1', { maxCount: 2, maxAgeMs: 60_000 });
    for (const id of ['r1.enter.1.0', 'r1.enter.2.0', 'r1.enter.3.0']) {
      await store.write('t1', 'r1', id, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    }
    const dir = join(root, 't1', 'r1');
    const now = Date.now();
    // Give the files distinct ages, the first one the oldest.
    utimesSync(join(dir, 'r1.enter.1.0.jpg'), (now - 3000) / 1000, (now - 3000) / 1000);
    utimesSync(join(dir, 'r1.enter.2.0.jpg'), (now - 2000) / 1000, (now - 2000) / 1000);
    assert.equal(await store.prune('t1', 'r1', { maxCount: 2, maxAgeMs: 60_000 }, now), 1);
    assert.deepEqual(
      readdirSync(dir)
        .filter((f) => f.endsWith('.jpg'))
        .sort(),
      ['r1.enter.2.0.jpg', 'r1.enter.3.0.jpg'],
    );
    // An ended run keeps its retention: the sweep removes what grew too old.
    assert.equal(await store.sweep(now + 61_000), 2);
    writeFileSync(join(root, 't1', 'stray.txt'), 'ignored');
    assert.equal(await store.sweep(now), 0);
    await assert.rejects(store.write('t1', 'r1', '../../etc/passwd', Buffer.alloc(1)), RangeError);
    assert.throws(() => store.runDir('..', 'r1'), RangeError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
