import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** An event id as the rules service makes them (`<run>.<rule>.<seq>.<n>`): safe as a file name. */
export const EVENT_ID = /^[A-Za-z0-9_-]{1,128}(\.[A-Za-z0-9_-]{1,128}){0,7}$/;
const ID = /^[A-Za-z0-9_-]{1,128}$/;
const RETENTION_FILE = 'retention.json';

export interface Retention {
  maxCount: number;
  maxAgeMs: number;
}

export interface SnapshotFile {
  name: string;
  mtimeMs: number;
}

/**
 * The snapshots to delete: those beyond the newest `maxCount`, and those older than `maxAgeMs`.
 * Ties on time keep the name order stable (newest name first).
 */
export function expiredSnapshots(
  files: readonly SnapshotFile[],
  retention: Retention,
  now: number,
): string[] {
  const newestFirst = [...files].sort(
    (a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name),
  );
  return newestFirst
    .filter((f, i) => i >= retention.maxCount || now - f.mtimeMs > retention.maxAgeMs)
    .map((f) => f.name);
}

/**
 * Snapshots on disk: `<root>/<tenant>/<run>/<eventId>.jpg`, each written to a temporary name and
 * renamed, so a reader (the API) sees a whole JPEG or none. Each run directory also holds its
 * retention (`retention.json`), so the periodic sweep keeps enforcing it after the run ended.
 */
export class SnapshotStore {
  constructor(readonly root: string) {}

  runDir(tenantId: string, runId: string): string {
    if (!ID.test(tenantId) || !ID.test(runId)) throw new RangeError('bad tenant or run id');
    return join(this.root, tenantId, runId);
  }

  async setRetention(tenantId: string, runId: string, retention: Retention): Promise<void> {
    const dir = this.runDir(tenantId, runId);
    await mkdir(dir, { recursive: true });
    await writeAtomic(join(dir, RETENTION_FILE), Buffer.from(JSON.stringify(retention)));
  }

  async write(tenantId: string, runId: string, eventId: string, jpeg: Buffer): Promise<string> {
    if (!EVENT_ID.test(eventId)) throw new RangeError(`bad event id ${JSON.stringify(eventId)}`);
    const dir = this.runDir(tenantId, runId);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${eventId}.jpg`);
    await writeAtomic(file, jpeg);
    return file;
  }

  /** Applies a run's retention now; the number of snapshots deleted. */
  async prune(tenantId: string, runId: string, retention: Retention, now: number): Promise<number> {
    const dir = this.runDir(tenantId, runId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return 0;
    }
    const files: SnapshotFile[] = [];
    for (const name of names) {
      if (!name.endsWith('.jpg')) continue;
      try {
        files.push({ name, mtimeMs: (await stat(join(dir, name))).mtimeMs });
      } catch {
        // Deleted meanwhile.
      }
    }
    const expired = expiredSnapshots(files, retention, now);
    await Promise.all(expired.map((n) => unlink(join(dir, n)).catch(() => undefined)));
    return expired.length;
  }

  /** Enforces the stored retention of every run directory (runs that ended included). */
  async sweep(now: number): Promise<number> {
    let deleted = 0;
    for (const tenant of await readdir(this.root).catch(() => [] as string[])) {
      if (!ID.test(tenant)) continue;
      const tenantDir = join(this.root, tenant);
      for (const run of await readdir(tenantDir).catch(() => [] as string[])) {
        if (!ID.test(run)) continue;
        const retention = await readRetention(join(tenantDir, run, RETENTION_FILE));
        if (!retention) continue;
        deleted += await this.prune(tenant, run, retention, now);
      }
    }
    return deleted;
  }
}

async function readRetention(file: string): Promise<Retention | undefined> {
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as Partial<Retention>;
    if (typeof r.maxCount === 'number' && typeof r.maxAgeMs === 'number') {
      return { maxCount: r.maxCount, maxAgeMs: r.maxAgeMs };
    }
  } catch {
    // No retention (yet): nothing to enforce.
  }
  return undefined;
}

/** Writes `data` to a temporary file beside `file` and renames it into place. */
export async function writeAtomic(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
