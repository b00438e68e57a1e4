import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { DecoderIo, Engine, EngineDecoder } from './engine.js';

/** A session opened exactly as the inference service opens its sessions (workers/session.ts). */
export function openSession(modelPath: string, intraOpThreads: number): Promise<InferenceSession> {
  return InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/** One YOLOX session with its reused input tensor and the engine's decoder. */
export interface YoloxRunner {
  session: InferenceSession;
  input: Float32Array;
  tensor: Tensor;
  inputName: string;
  outputName: string;
  decoder: EngineDecoder;
}

export async function openYolox(
  engine: Engine,
  modelPath: string,
  intraOpThreads: number,
  width = 416,
  height = 416,
): Promise<YoloxRunner> {
  const session = await openSession(modelPath, intraOpThreads);
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (!inputName || !outputName) throw new Error(`${modelPath} has no input or output`);
  const meta = session.outputMetadata[0];
  const outputShape = meta && meta.isTensor ? meta.shape : [];
  const io: DecoderIo = {
    modelId: 'yolox',
    inputWidth: width,
    inputHeight: height,
    numClasses: 80,
    outputShape,
  };
  const input = new Float32Array(3 * width * height);
  return {
    session,
    input,
    tensor: new Tensor('float32', input, [1, 3, height, width]),
    inputName,
    outputName,
    decoder: engine.createDecoder({ type: 'yolox', decodedInGraph: true }, io),
  };
}

/** session.run on the runner's input tensor; returns the output (the caller disposes it). */
export async function runOnce(r: YoloxRunner): Promise<Tensor> {
  const results = await r.session.run({ [r.inputName]: r.tensor });
  const out = results[r.outputName];
  if (!out || !(out.data instanceof Float32Array)) throw new Error('no float32 output');
  return out;
}
