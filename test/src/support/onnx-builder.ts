/**
 * Tiny ONNX models written as protobuf bytes by hand (a few fields of onnx.proto), so the tests
 * can hand the API graphs of any input and output shape without a model zoo: one Identity node
 * from `x` to `y`. ONNX Runtime opens them like any exported model.
 */

/** onnx.TensorProto.DataType values used here. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT64: 7 } as const;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const intField = (field: number, n: number): Buffer =>
  Buffer.from([...varint((field << 3) | 0), ...varint(n)]);

function bytesField(field: number, value: Buffer | string): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(b.length)]), b]);
}

/** A dimension: a number is fixed, a string is symbolic (dynamic). */
export type Dim = number | string;

function valueInfo(name: string, elemType: number, shape: Dim[]): Buffer {
  const dims = shape.map((d) =>
    bytesField(1, typeof d === 'number' ? intField(1, d) : bytesField(2, d)),
  );
  const tensorType = Buffer.concat([intField(1, elemType), bytesField(2, Buffer.concat(dims))]);
  return Buffer.concat([bytesField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

/** An ONNX model `y = Identity(x)` whose input and output have the given type and shape. */
export function identityModel(shape: Dim[], elemType: number = ElemType.FLOAT): Buffer {
  const node = Buffer.concat([
    bytesField(1, 'x'),
    bytesField(2, 'y'),
    bytesField(3, 'id'),
    bytesField(4, 'Identity'),
  ]);
  const graph = Buffer.concat([
    bytesField(1, node),
    bytesField(2, 'sie-test'),
    bytesField(11, valueInfo('x', elemType, shape)),
    bytesField(12, valueInfo('y', elemType, shape)),
  ]);
  const opset = Buffer.concat([bytesField(1, ''), intField(2, 13)]);
  return Buffer.concat([
    intField(1, 8), // ir_version
    bytesField(2, 'sie-test'), // producer_name
    bytesField(7, graph),
    bytesField(8, opset),
  ]);
}
