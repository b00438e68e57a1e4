import { ModelError } from '@sie/errors';
import { createDecoder } from '../decoders/factory.js';
import type { Decoder } from '../decoders/types.js';
import type { DecoderType, ModelConfig } from './spec.js';

/** The output each decoder type reads, for errors; the decoder checks the values themselves. */
const OUTPUT_FORM: Record<DecoderType, string> = {
  yolox: '[1, anchors, 5 + classes]',
  yolo: '[1, 4 + classes, anchors] (v8) or [1, anchors, 5 + classes] (v5)',
  classify: '[1, classes]',
};

/** What a loaded network looks like; symbolic (dynamic) dims are -1. */
export interface ModelIo {
  inputName: string;
  inputShape: number[];
  outputName: string;
  outputShape: number[];
  /** The provider the sessions actually run on (`cpu` after a CUDA fallback). */
  executionProvider: string;
}

/** ONNX Runtime's description of one input or output. */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/**
 * Checks that a network fits its config before it serves anything: one float32 image input
 * [1 or dynamic, 3, H, W] of the configured size, and a float32 output its decoder can read
 * (rank and batch here, the class count and layout by the decoder). Returns the declared shapes
 * (symbolic dims as strings) and the decoder.
 */
export function checkModelIo(
  config: ModelConfig,
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
): {
  input: readonly (number | string)[];
  output: readonly (number | string)[];
  io: Omit<ModelIo, 'executionProvider'>;
  decoder: Decoder;
} {
  const fail = (why: string): never => {
    throw new ModelError(
      `model ${config.id} (${config.path}) does not fit its spec: ${why}`,
      config.id,
    );
  };
  if (inputs.length !== 1) fail(`expected 1 input, the graph has ${inputs.length}`);
  if (outputs.length < 1) fail('the graph has no output');
  const input = inputs[0] as ValueInfo;
  const output = outputs[0] as ValueInfo;
  for (const v of [input, output]) {
    if (!v.isTensor || v.type !== 'float32')
      fail(`${v.name} is ${v.type ?? 'not a tensor'}, expected float32`);
  }
  const ins = input.shape ?? [];
  const outs = output.shape ?? [];
  const fits = (dim: number | string | undefined, want: number): boolean =>
    typeof dim === 'string' || dim === want || dim === -1;
  if (
    ins.length !== 4 ||
    !fits(ins[0], 1) ||
    ins[1] !== 3 ||
    !fits(ins[2], config.inputHeight) ||
    !fits(ins[3], config.inputWidth)
  ) {
    fail(
      `input ${input.name} is [${ins.join(',')}], expected [1,3,${config.inputHeight},${config.inputWidth}]`,
    );
  }
  const type = config.decoder.type;
  if (outs.length !== (type === 'classify' ? 2 : 3) || !fits(outs[0], 1)) {
    fail(`output ${output.name} is [${outs.join(',')}], ${type} expects ${OUTPUT_FORM[type]}`);
  }
  let decoder: Decoder;
  try {
    decoder = createDecoder(config.decoder, {
      modelId: config.id,
      inputWidth: config.inputWidth,
      inputHeight: config.inputHeight,
      numClasses: config.classNames.length,
      outputShape: outs,
    });
  } catch (err) {
    // The decoder says what does not fit; the prefix says which model and file.
    if (err instanceof ModelError) fail(`output ${output.name}: ${err.message}`);
    throw err;
  }
  return {
    decoder,
    input: ins,
    output: outs,
    io: {
      inputName: input.name,
      inputShape: ins.map(numericDim),
      outputName: output.name,
      outputShape: outs.map(numericDim),
    },
  };
}

function numericDim(d: number | string): number {
  return typeof d === 'number' && d >= 0 ? d : -1;
}
