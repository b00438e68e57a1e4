import { Transform, type TransformCallback } from 'node:stream';
// The type import brings the plugin's FastifyRequest augmentation (parts, isMultipart) into scope.
import type { Multipart } from '@fastify/multipart';
import { SieError } from '@sie/errors';
import type { FastifyRequest } from 'fastify';
import { InvalidJsonError, PayloadTooLargeError, RequestInvalidError } from '../errors.js';

export interface FormLimits {
  fileSize: number;
  files: number;
  fields: number;
  fieldSize: number;
  parts: number;
}

export function isMultipart(req: FastifyRequest): boolean {
  return req.isMultipart();
}

/**
 * The parts of a multipart/form-data body, in the order the client sent them. A body the parser
 * cannot read is the client's error (400), not the service's.
 */
export async function* formParts(
  req: FastifyRequest,
  limits: FormLimits,
): AsyncGenerator<Multipart, void, undefined> {
  try {
    yield* req.parts({ limits });
  } catch (err) {
    throw asFormError(err);
  }
}

/** Parser errors (plain Errors from busboy) as a 400 naming the problem; others unchanged. */
export function asFormError(err: unknown): unknown {
  if (err instanceof SieError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) return err; // Fastify's own (FST_…, mapped) or a system error (E…)
  return new RequestInvalidError(
    [{ path: '', message: `malformed multipart body: ${err.message}` }],
    {
      cause: err,
    },
  );
}

/** Room for the multipart framing and the text fields around a file of the largest size. */
export const MULTIPART_OVERHEAD_BYTES = 1 << 20;

/**
 * Refuses a body whose declared length is already too large, before a byte of it is read. A
 * chunked body has no declared length; the per-file limit stops it while it streams.
 */
export function checkDeclaredLength(req: FastifyRequest, maxBytes: number, what: string): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES) {
    throw new PayloadTooLargeError(
      `${what} is larger than ${maxBytes} bytes (the request declares ${declared})`,
      maxBytes,
    );
  }
}

/** Counts bytes going through and fails the stream the moment they pass `maxBytes`. */
export class ByteLimit extends Transform {
  bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      cb(
        new PayloadTooLargeError(
          `${this.what} is larger than ${this.maxBytes} bytes`,
          this.maxBytes,
        ),
      );
      return;
    }
    cb(null, chunk);
  }
}

/** A text field that holds JSON (sent as text or as application/json), parsed. */
export function jsonField(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value; // multipart parsed an application/json part
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new InvalidJsonError(`field ${name} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Fails with every field named in `required` that the form lacked. */
export function requireFields(present: Set<string>, required: string[]): void {
  const missing = required.filter((f) => !present.has(f));
  if (missing.length > 0) {
    throw new RequestInvalidError(missing.map((path) => ({ path, message: 'required' })));
  }
}

/** Reads a file part into memory, failing the moment it passes `maxBytes`. */
export async function readLimited(
  source: NodeJS.ReadableStream,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > maxBytes) {
      throw new PayloadTooLargeError(`${what} is larger than ${maxBytes} bytes`, maxBytes);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
