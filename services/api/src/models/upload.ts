import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { modelMetadataSchema, type ModelMetadata } from '@sie/models';
import type { FastifyRequest } from 'fastify';
import { isDiskFull } from '../db-errors.js';
import { RequestInvalidError, StorageFullError } from '../errors.js';
import {
  ByteLimit,
  asFormError,
  checkDeclaredLength,
  formParts,
  jsonField,
  requireFields,
} from '../http/multipart.js';
import { parseInput } from '../http/validate.js';
import type { ModelStore } from './store.js';

export interface ReceivedModel {
  metadata: ModelMetadata;
  /** The upload in the store's temp folder; the caller commits or removes it. */
  tempPath: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Reads a `multipart/form-data` model upload: the `file` part streams to a temp file while it is
 * hashed (never held in memory, stopped the moment it passes `maxBytes`), the `metadata` part is
 * parsed and validated. Any failure removes the temp file before it propagates.
 */
export async function receiveModelUpload(
  req: FastifyRequest,
  store: ModelStore,
  maxBytes: number,
): Promise<ReceivedModel> {
  checkDeclaredLength(req, maxBytes, 'the model file');
  const tempPath = store.tempPath();
  let wroteTemp = false;
  try {
    let metadata: ModelMetadata | undefined;
    let file: { sha256: string; sizeBytes: number } | undefined;
    const seen = new Set<string>();
    const parts = formParts(req, {
      fileSize: maxBytes + 1,
      files: 1,
      fields: 4,
      fieldSize: 1 << 20,
      parts: 5,
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw unexpected(part.fieldname);
        seen.add('file');
        wroteTemp = true;
        file = await writeHashed(part.file, tempPath, maxBytes);
      } else {
        if (part.fieldname !== 'metadata') throw unexpected(part.fieldname);
        seen.add('metadata');
        // Validated as soon as it arrives, so bad metadata sent first stops the upload early.
        metadata = parseInput(modelMetadataSchema, jsonField('metadata', part.value), 'metadata');
      }
    }
    requireFields(seen, ['file', 'metadata']);
    if (!metadata || !file) throw new Error('unreachable: required fields checked');
    return { metadata, tempPath, ...file };
  } catch (err) {
    if (wroteTemp) await store.remove(tempPath);
    throw err;
  }
}

async function writeHashed(
  source: NodeJS.ReadableStream,
  path: string,
  maxBytes: number,
): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  const limit = new ByteLimit(maxBytes, 'the model file');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(source, limit, hasher, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    if (isDiskFull(err)) {
      throw new StorageFullError(
        'the model store is full: the upload was refused and nothing of it was kept',
        { cause: err },
      );
    }
    throw asFormError(err);
  }
  return { sha256: hash.digest('hex'), sizeBytes: limit.bytes };
}

function unexpected(field: string): RequestInvalidError {
  return new RequestInvalidError([
    { path: field, message: 'unknown field (expected file and metadata)' },
  ]);
}
