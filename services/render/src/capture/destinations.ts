import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CaptureDestinationConfig } from '@sie/pipeline';
import { isUnderRoot } from '@sie/pipeline';
import { writeAtomic } from '../snapshot-store.js';
import { amzDateOf, sha256Hex, signV4, uriEncode } from './sigv4.js';

/**
 * Where a dataset goes. Keys are relative, `/`-separated paths made by the capture writer from
 * ids it checked (`images/<run>/<seq>.jpg`), never from client input.
 */
export interface CaptureDestination {
  /** `local` or `s3` (the `destination` label of the capture metrics). */
  readonly type: CaptureDestinationConfig['type'];
  /** Whether `append` adds to a shared object cheaply (a local file) rather than rewriting it. */
  readonly appends: boolean;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Adds `text` at the end of the object `key`. */
  append(key: string, text: string, contentType: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

function checkKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new RangeError(`bad capture key ${JSON.stringify(key)}`);
  }
  return key;
}

/** A directory of the node (under its capture root); files appear whole (temp + rename). */
export class LocalDestination implements CaptureDestination {
  readonly type = 'local' as const;
  readonly appends = true;

  constructor(readonly dir: string) {}

  async put(key: string, body: Buffer): Promise<void> {
    const file = join(this.dir, checkKey(key));
    await mkdir(dirname(file), { recursive: true });
    await writeAtomic(file, body);
  }

  async append(key: string, text: string): Promise<void> {
    const file = join(this.dir, checkKey(key));
    await mkdir(dirname(file), { recursive: true });
    // One write per line with O_APPEND: lines of concurrent runs never interleave.
    await appendFile(file, text);
  }
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * An S3-compatible bucket, path-style (`<endpoint>/<bucket>/<prefix><key>`, which MinIO, Ceph and
 * AWS all accept), each object one PUT signed with SigV4. S3 has no append: an appended object is
 * kept in memory and PUT again whole, at most one PUT per key in flight.
 */
export class S3Destination implements CaptureDestination {
  readonly type = 's3' as const;
  readonly appends = false;
  private readonly objects = new Map<string, { text: string; flushing?: Promise<void> }>();

  constructor(
    private readonly config: Extract<CaptureDestinationConfig, { type: 's3' }>,
    private readonly credentials: S3Credentials,
    private readonly timeoutMs = 30_000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  urlOf(key: string): URL {
    const path = `${this.config.bucket}/${this.config.prefix}${checkKey(key)}`;
    return new URL(`/${uriEncode(path, false)}`, this.config.endpoint);
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const url = this.urlOf(key);
    const payloadHash = sha256Hex(body);
    const amzDate = amzDateOf(this.now());
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
    };
    const { authorization } = signV4({
      method: 'PUT',
      path: url.pathname,
      headers: { ...headers, host: url.host },
      payloadHash,
      region: this.config.region,
      service: 's3',
      accessKeyId: this.credentials.accessKeyId,
      secretAccessKey: this.credentials.secretAccessKey,
      amzDate,
    });
    const res = await fetch(url, {
      method: 'PUT',
      headers: { ...headers, authorization },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw new Error(`PUT ${url.pathname} answered ${res.status}: ${text}`);
    }
    await res.body?.cancel().catch(() => undefined);
  }

  async append(key: string, text: string, contentType: string): Promise<void> {
    const o = this.objects.get(key) ?? { text: '' };
    this.objects.set(key, o);
    o.text += text;
    // Coalesce: while a PUT runs, later lines wait for the next one, which carries them all.
    while (o.flushing) await o.flushing;
    const body = Buffer.from(o.text);
    const p = this.put(key, body, contentType);
    o.flushing = p.finally(() => {
      o.flushing = undefined;
    });
    await o.flushing;
  }
}

export interface DestinationContext {
  /** The node's capture root; a local destination must lie under it. */
  rootDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** Builds the destination of a pipeline's capture settings (a union keyed on `type`). */
export function createDestination(
  config: CaptureDestinationConfig,
  ctx: DestinationContext,
): CaptureDestination {
  switch (config.type) {
    case 'local': {
      const root = resolve(ctx.rootDir);
      if (!isUnderRoot(config.dir, root)) {
        throw new RangeError(`capture dir ${config.dir} is not under this node's root ${root}`);
      }
      return new LocalDestination(config.dir);
    }
    case 's3': {
      const accessKeyId = ctx.env[config.accessKeyIdEnv];
      const secretAccessKey = ctx.env[config.secretAccessKeyEnv];
      if (!accessKeyId || !secretAccessKey) {
        throw new RangeError(
          `capture credentials: ${config.accessKeyIdEnv} and ${config.secretAccessKeyEnv} must be set on this node`,
        );
      }
      return new S3Destination(config, { accessKeyId, secretAccessKey });
    }
  }
}
