import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The input size (width × height) an ONNX image model declares: the last two dimensions of its
 * first 4-D graph input (N, C, H, W), when they are fixed numbers. Reads the protobuf by seeking
 * past everything else (the weights), so a large model is never loaded whole.
 *
 *   ModelProto.graph = 7; GraphProto.input = 11; ValueInfoProto.type = 2; TypeProto.tensor_type = 1;
 *   Tensor.shape = 2; TensorShapeProto.dim = 1; Dimension.dim_value = 1
 */
export function onnxInputSize(path: string): { width: number; height: number } | undefined {
  const fd = openSync(path, 'r');
  try {
    const file = fileSource(fd);
    const graph = findField(file, 0, file.size, 7);
    if (!graph) return undefined;
    for (const input of fieldsOf(file, graph.start, graph.end, 11)) {
      const dims = inputDims(file.read(input.start, input.end - input.start));
      const [, , h, w] = dims;
      if (dims.length === 4 && h && w && h > 0 && w > 0) return { width: w, height: h };
    }
    return undefined;
  } catch {
    // Not ONNX (or truncated): the API says so with its own message.
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Bytes to parse: the model file (read at offsets) or a part of it already in memory. */
interface ByteSource {
  size: number;
  read(at: number, length: number): Buffer;
}

function fileSource(fd: number): ByteSource {
  return {
    size: fstatSync(fd).size,
    read(at, length) {
      const buf = Buffer.alloc(length);
      if (readSync(fd, buf, 0, length, at) < length) throw new RangeError('truncated');
      return buf;
    },
  };
}

function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read(at, length) {
      if (at + length > buf.length) throw new RangeError('truncated');
      return buf.subarray(at, at + length);
    },
  };
}

interface Span {
  start: number;
  end: number;
}

/** A varint at `at` of `buf`: its value and length. */
function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i += 1) {
    const b = buf[at + i];
    if (b === undefined) throw new RangeError('truncated varint');
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [value, i + 1];
  }
  throw new RangeError('bad varint');
}

/** Walks the fields in [start, end) of a file, yielding the length-delimited ones numbered `want`. */
function* fieldsOf(file: ByteSource, start: number, end: number, want: number): Generator<Span> {
  let at = start;
  while (at < end) {
    const head = file.read(at, Math.min(20, end - at));
    const [key, keyLen] = varint(head, 0);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let next: number;
    if (wire === 0) next = at + keyLen + varint(head, keyLen)[1];
    else if (wire === 1) next = at + keyLen + 8;
    else if (wire === 5) next = at + keyLen + 4;
    else if (wire === 2) {
      const [len, lenLen] = varint(head, keyLen);
      const body = at + keyLen + lenLen;
      next = body + len;
      if (field === want) yield { start: body, end: next };
    } else throw new RangeError(`wire type ${wire}`);
    at = next;
  }
}

function findField(file: ByteSource, start: number, end: number, want: number): Span | undefined {
  for (const span of fieldsOf(file, start, end, want)) return span;
  return undefined;
}

/** Dimensions of a ValueInfoProto (0 for symbolic ones). */
function inputDims(valueInfo: Buffer): number[] {
  const mem = bufferSource(valueInfo);
  const type = findField(mem, 0, valueInfo.length, 2);
  const tensor = type && findField(mem, type.start, type.end, 1);
  const shape = tensor && findField(mem, tensor.start, tensor.end, 2);
  if (!shape) return [];
  const dims: number[] = [];
  for (const dim of fieldsOf(mem, shape.start, shape.end, 1)) {
    const d = valueInfo.subarray(dim.start, dim.end);
    // dim_value is field 1, a varint (key byte 0x08); a dim_param leaves the size unknown.
    dims.push(d[0] === 0x08 ? varint(d, 1)[0] : 0);
  }
  return dims;
}
