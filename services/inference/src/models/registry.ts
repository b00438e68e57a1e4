import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { SieError } from '@sie/errors';
import { ModelError, ModelNotFoundError, UnavailableError, asSieError } from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import type { WorkerPool } from '../workers/pool.js';
import type { ModelIo } from './model-io.js';
import type { ModelConfig } from './spec.js';

export type ModelState = 'loading' | 'ready' | 'failed';

/** What the model file was when a generation loaded it: a changed file means a real reload. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

/** The pool's part of loading: a session per worker under a generation key. */
export type ModelPool = Pick<WorkerPool, 'load' | 'unload'>;

export interface ModelEntry {
  config: ModelConfig;
  state: ModelState;
  /** The pool's key of the generation serving requests (`id#n`); null unless ready. */
  key: string | null;
  io: ModelIo | null;
  /** Why the last load failed (kept on a ready model whose reload failed). */
  error: SieError | null;
  /** The file the serving generation was loaded from; null unless ready. */
  file: FileStamp | null;
}

export interface ReadyModel extends ModelEntry {
  state: 'ready';
  key: string;
  io: ModelIo;
}

/**
 * The models this node serves. A load creates a session in every worker (which validates the
 * file and its shapes) under a fresh generation key; only when all succeed does the id switch to
 * it, so a hot reload never serves a half-loaded model and a failed reload keeps the old one.
 * Loading what is already served (same config, same file size and mtime) changes nothing: the
 * scheduler loads a run's model before every start. Loads and unloads of one id run one after
 * another.
 */
export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private generation = 0;

  constructor(
    private readonly pool: ModelPool,
    private readonly logger: Logger,
  ) {}

  load(config: ModelConfig): Promise<ReadyModel> {
    return this.serialize(config.id, () => this.doLoad(config));
  }

  unload(id: string): Promise<void> {
    return this.serialize(id, async () => {
      const entry = this.entries.get(id);
      if (!entry) throw new ModelNotFoundError(id);
      this.entries.delete(id);
      if (entry.key) this.pool.unload(entry.key);
      this.logger.info({ model: id }, 'model unloaded');
    });
  }

  get(id: string): ModelEntry | undefined {
    return this.entries.get(id);
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  /** The model a request may use, or why it may not. */
  ready(id: string): ReadyModel {
    const entry = this.entries.get(id);
    if (!entry) throw new ModelNotFoundError(id);
    if (isReady(entry)) return entry;
    // Transient (a restart reloading its models): callers retry, they must not give up on it.
    if (entry.state === 'loading') throw new UnavailableError(`model ${id} is still loading`);
    throw new ModelError(`model ${id} failed to load: ${entry.error?.message ?? 'unknown'}`, id, {
      cause: entry.error,
    });
  }

  private async doLoad(requested: ModelConfig): Promise<ReadyModel> {
    const config = { ...requested, path: resolve(requested.path) };
    const id = config.id;
    const previous = this.entries.get(id);
    // Taken before the load: a file replaced while it loads is loaded again next time.
    const file = await fileStamp(config.path);
    if (previous && isReady(previous) && isSameLoad(previous, config, file)) {
      this.logger.debug({ model: id, path: config.path }, 'model already loaded as asked');
      return previous;
    }
    if (!previous || !isReady(previous)) {
      this.entries.set(id, {
        config,
        state: 'loading',
        key: null,
        io: null,
        error: null,
        file: null,
      });
    }
    const key = `${id}#${++this.generation}`;
    const started = Date.now();
    try {
      const { io, warning } = await this.pool.load(key, config);
      if (warning) this.logger.warn({ model: id }, warning);
      const entry: ReadyModel = { config, state: 'ready', key, io, error: null, file };
      this.entries.set(id, entry);
      if (previous?.key) this.pool.unload(previous.key);
      this.logger.info(
        { model: id, path: config.path, io, loadMs: Date.now() - started },
        previous && isReady(previous) ? 'model reloaded' : 'model loaded',
      );
      return entry;
    } catch (err) {
      const error =
        err instanceof ModelError
          ? err
          : new ModelError(`cannot load model ${id}: ${asSieError(err).message}`, id, {
              cause: err,
            });
      if (previous && isReady(previous)) {
        // A failed reload keeps serving the previous generation.
        this.entries.set(id, { ...previous, error });
      } else {
        this.entries.set(id, { config, state: 'failed', key: null, io: null, error, file: null });
      }
      this.logger.error({ model: id, path: config.path, err: error }, 'model load failed');
      throw error;
    }
  }

  private serialize<T>(id: string, task: () => Promise<T>): Promise<T> {
    const before = this.locks.get(id) ?? Promise.resolve();
    const run = before.then(task, task);
    const settled = run.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return run;
  }
}

/** Size and mtime of a model file; null when it cannot be read (the load then says why). */
async function fileStamp(path: string): Promise<FileStamp | null> {
  try {
    const s = await stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return null;
  }
}

/** Whether loading `config` from `file` would serve exactly what `entry` serves already. */
function isSameLoad(entry: ReadyModel, config: ModelConfig, file: FileStamp | null): boolean {
  return (
    file !== null &&
    entry.file !== null &&
    entry.file.size === file.size &&
    entry.file.mtimeMs === file.mtimeMs &&
    isDeepStrictEqual(entry.config, config)
  );
}

function isReady(e: ModelEntry): e is ReadyModel {
  return e.state === 'ready' && e.key !== null && e.io !== null;
}
