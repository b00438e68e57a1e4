import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

// Tests build tiny ONNX files instead of committing them: a graph that declares the image input a
// real detector has and answers every run with a constant tensor, so a test knows the exact
// network output and can assert exact decoded detections. Field numbers are onnx.proto's.

/** TensorProto.DataType FLOAT. */
const FLOAT = 1;
/** AttributeProto.AttributeType TENSOR. */
const ATTRIBUTE_TENSOR = 4;

export interface ConstantModel {
  /** Default `images`. */
  inputName?: string;
  /** Declared input shape; strings are symbolic dims. */
  inputShape: readonly (number | string)[];
  /** Default `output`. */
  outputName?: string;
  /** Shape of the constant the graph outputs. */
  dims: readonly number[];
  /** Row-major values, `dims` multiplied out. */
  values: ArrayLike<number>;
  /** Declared output shape (symbolic dims allowed); default `dims`. */
  outputShape?: readonly (number | string)[];
}

/**
 * An ONNX ModelProto (IR 8, opset 17) of one `Constant` node: the float32 input is declared and
 * fed like a real model's, but ignored; the output is always `values`.
 */
export function constantModel(m: ConstantModel): Uint8Array {
  const size = m.dims.reduce((a, b) => a * b, 1);
  if (m.values.length !== size) {
    throw new RangeError(`${m.values.length} values for dims [${m.dims.join(',')}] (${size})`);
  }
  const inputName = m.inputName ?? 'images';
  const outputName = m.outputName ?? 'output';
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(8); // ir_version
  w.tag(8, WireType.LengthDelimited).fork(); // opset_import
  w.tag(1, WireType.LengthDelimited).string(''); // domain: the default ONNX operator set
  w.tag(2, WireType.Varint).int64(17); // version
  w.join();
  w.tag(7, WireType.LengthDelimited).fork(); // graph
  w.tag(1, WireType.LengthDelimited).fork(); // node
  w.tag(2, WireType.LengthDelimited).string(outputName); // output
  w.tag(3, WireType.LengthDelimited).string('constant'); // name
  w.tag(4, WireType.LengthDelimited).string('Constant'); // op_type
  w.tag(5, WireType.LengthDelimited).fork(); // attribute
  w.tag(1, WireType.LengthDelimited).string('value'); // name
  w.tag(20, WireType.Varint).int32(ATTRIBUTE_TENSOR); // type
  w.tag(5, WireType.LengthDelimited).fork(); // t
  writeTensor(w, m.dims, m.values);
  w.join();
  w.join(); // attribute
  w.join(); // node
  w.tag(2, WireType.LengthDelimited).string('sie_test_constant'); // graph name
  w.tag(11, WireType.LengthDelimited).fork(); // input
  writeValueInfo(w, inputName, m.inputShape);
  w.join();
  w.tag(12, WireType.LengthDelimited).fork(); // output
  writeValueInfo(w, outputName, m.outputShape ?? m.dims);
  w.join();
  w.join(); // graph
  return w.finish();
}

function writeTensor(w: BinaryWriter, dims: readonly number[], values: ArrayLike<number>): void {
  for (const d of dims) w.tag(1, WireType.Varint).int64(d); // dims (unpacked is valid too)
  w.tag(2, WireType.Varint).int32(FLOAT); // data_type
  // raw_data: little-endian float32, as ONNX requires regardless of the host.
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  w.tag(9, WireType.LengthDelimited).bytes(raw);
}

/** ValueInfoProto { name, type: TypeProto { tensor_type { elem_type FLOAT, shape } } }. */
function writeValueInfo(w: BinaryWriter, name: string, shape: readonly (number | string)[]): void {
  w.tag(1, WireType.LengthDelimited).string(name);
  w.tag(2, WireType.LengthDelimited).fork(); // type
  w.tag(1, WireType.LengthDelimited).fork(); // tensor_type
  w.tag(1, WireType.Varint).int32(FLOAT); // elem_type
  w.tag(2, WireType.LengthDelimited).fork(); // shape
  for (const d of shape) {
    w.tag(1, WireType.LengthDelimited).fork(); // dim
    if (typeof d === 'number')
      w.tag(1, WireType.Varint).int64(d); // dim_value
    else w.tag(2, WireType.LengthDelimited).string(d); // dim_param
    w.join();
  }
  w.join(); // shape
  w.join(); // tensor_type
  w.join(); // type
}
