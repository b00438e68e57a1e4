// Runs in a worker thread: opening an ONNX model parses and checks the whole graph, which can
// block for seconds on a large file, so the API's event loop never does it.
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession } from 'onnxruntime-node';
import type { InspectReply, InspectRequest } from './inspect-protocol.js';
import type { ValueInfo } from './shape-check.js';

const { path } = workerData as InspectRequest;

/** A structured-clone-safe copy (the runtime's objects may carry more than data). */
function plain(v: InferenceSession.ValueMetadata): ValueInfo {
  if (!v.isTensor) return { name: v.name, isTensor: false };
  return { name: v.name, isTensor: true, type: String(v.type), shape: [...v.shape] };
}

function describe(err: unknown): string {
  // ORT messages may carry ANSI colour codes and long native paths; keep the first line, plain.
  const text = err instanceof Error ? err.message : String(err);
  // eslint-disable-next-line no-control-regex
  const plainText = text.replace(/\u001b\[[0-9;]*m/g, '');
  return plainText.split('\n')[0]?.trim() ?? plainText;
}

let reply: InspectReply;
try {
  const session = await InferenceSession.create(path, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    // Only the graph's interface is read; optimising it would be wasted work.
    graphOptimizationLevel: 'disabled',
  });
  reply = {
    ok: true,
    inputs: session.inputMetadata.map(plain),
    outputs: session.outputMetadata.map(plain),
  };
  await session.release();
} catch (err) {
  reply = { ok: false, message: describe(err) };
}
parentPort?.postMessage(reply);
