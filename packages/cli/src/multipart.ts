import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';

export interface MultipartUpload {
  contentType: string;
  /** Exact body length: the file's size plus the part headers. */
  length: number;
  body: AsyncIterable<Uint8Array>;
}

const enc = new TextEncoder();

/**
 * A multipart/form-data body with JSON fields first and one file part read from disk as it is
 * sent, so a model of any size is never held in memory. `onBytes` gets the file bytes sent so far.
 */
export function multipartFileUpload(
  fields: Record<string, string>,
  file: { field: string; path: string; size: number },
  onBytes: (sent: number) => void,
): MultipartUpload {
  const boundary = `----sie-cli-${randomBytes(12).toString('hex')}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head +=
      `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n` +
      `content-type: application/json\r\n\r\n${value}\r\n`;
  }
  const filename = basename(file.path).replace(/["\r\n]/g, '_');
  head +=
    `--${boundary}\r\ncontent-disposition: form-data; name="${file.field}"; filename="${filename}"\r\n` +
    `content-type: application/octet-stream\r\n\r\n`;
  const headBytes = enc.encode(head);
  const tailBytes = enc.encode(`\r\n--${boundary}--\r\n`);
  async function* body(): AsyncGenerator<Uint8Array> {
    yield headBytes;
    let sent = 0;
    for await (const chunk of createReadStream(file.path, { highWaterMark: 256 * 1024 })) {
      const bytes = chunk as Buffer;
      yield bytes;
      sent += bytes.length;
      onBytes(sent);
    }
    yield tailBytes;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: headBytes.length + file.size + tailBytes.length,
    body: body(),
  };
}
