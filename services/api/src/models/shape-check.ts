import { ModelError } from '@sie/errors';
import type { ModelMetadata } from '@sie/models';

/** ONNX Runtime's description of one graph input or output (symbolic dims are strings). */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

export interface ModelIoDescription {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

type Dim = number | string | undefined;

/** A symbolic or -1 dimension fits anything. */
const dynamic = (d: Dim): boolean => typeof d === 'string' || d === -1;
const fits = (d: Dim, want: number): boolean => dynamic(d) || d === want;
const show = (shape: readonly Dim[]): string =>
  `[${shape.map((d) => (dynamic(d) ? '?' : String(d))).join(',')}]`;

/**
 * Checks the graph against its metadata before anything is stored: one float32 image input
 * [N,3,H,W] of the declared size, and a first output whose shape the declared decoder can read
 * with the declared class count. Throws a ModelError naming the first disagreement.
 */
export function checkModelShapes(meta: ModelMetadata, io: ModelIoDescription): void {
  const fail = (why: string): never => {
    throw new ModelError(`the model does not match its metadata: ${why}`, '');
  };
  if (io.inputs.length !== 1) fail(`expected 1 input, the graph has ${io.inputs.length}`);
  if (io.outputs.length < 1) fail('the graph has no output');
  const input = io.inputs[0] as ValueInfo;
  const output = io.outputs[0] as ValueInfo;
  for (const v of [input, output]) {
    if (!v.isTensor || v.type !== 'float32') {
      fail(`${v.name} is ${v.type ?? 'not a tensor'}, expected float32`);
    }
  }
  const ins = input.shape ?? [];
  if (ins.length !== 4 || ins[1] !== 3) {
    fail(`input ${input.name} is ${show(ins)}, expected [N,3,H,W]`);
  }
  if (!fits(ins[2], meta.inputHeight)) {
    fail(
      `input ${input.name} is ${show(ins)}: height ${String(ins[2])}, metadata says inputHeight ${meta.inputHeight}`,
    );
  }
  if (!fits(ins[3], meta.inputWidth)) {
    fail(
      `input ${input.name} is ${show(ins)}: width ${String(ins[3])}, metadata says inputWidth ${meta.inputWidth}`,
    );
  }
  const why = outputMismatch(meta, output.shape ?? []);
  if (why) fail(`output ${output.name} is ${show(output.shape ?? [])}: ${why}`);
}

/** Why the output cannot be read by the decoder, or undefined when it can. */
function outputMismatch(meta: ModelMetadata, outs: readonly Dim[]): string | undefined {
  const classes = meta.classNames.length;
  switch (meta.decoder.type) {
    case 'yolox':
      if (outs.length !== 3) return 'the yolox decoder expects [N, anchors, 5+classes]';
      return fits(outs[2], 5 + classes)
        ? undefined
        : `the yolox decoder expects [N, anchors, ${5 + classes}] for ${classes} classes`;
    case 'yolo': {
      const v8 = `[N, ${4 + classes}, boxes]`;
      const v5 = `[N, boxes, ${5 + classes}]`;
      const layout = meta.decoder.layout;
      const want = layout === 'v8' ? v8 : layout === 'v5' ? v5 : `${v8} or ${v5}`;
      if (outs.length !== 3) return `the yolo decoder (${layout}) expects ${want}`;
      const isV8 = fits(outs[1], 4 + classes);
      const isV5 = fits(outs[2], 5 + classes);
      const ok = layout === 'v8' ? isV8 : layout === 'v5' ? isV5 : isV8 || isV5;
      return ok ? undefined : `the yolo decoder (${layout}) expects ${want} for ${classes} classes`;
    }
    case 'classify':
      if (outs.length !== 2) return 'the classify decoder expects [N, classes]';
      return fits(outs[1], classes)
        ? undefined
        : `the classify decoder expects [N, ${classes}] for ${classes} classes`;
  }
}
