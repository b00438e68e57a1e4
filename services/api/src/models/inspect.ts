import { Worker } from 'node:worker_threads';
import { ModelError } from '@sie/errors';
import type { InspectReply, InspectRequest } from './inspect-protocol.js';
import type { ModelIoDescription } from './shape-check.js';

/** Opens an ONNX file and says what its inputs and outputs look like. */
export type ModelInspector = (path: string) => Promise<ModelIoDescription>;

/**
 * Opens the file with ONNX Runtime in a worker thread of its own (a fresh one per upload: uploads
 * are rare, and a worker that hangs or crashes on a hostile file is simply terminated).
 */
export function workerModelInspector(timeoutMs: number, maxConcurrent = 2): ModelInspector {
  // A session holds the whole model in memory: a few uploads at once, the rest wait their turn.
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (path) => {
    if (running >= maxConcurrent) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await inspectInWorker(path, timeoutMs);
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

function inspectInWorker(path: string, timeoutMs: number): Promise<ModelIoDescription> {
  return new Promise<ModelIoDescription>((resolve, reject) => {
    const worker = new Worker(new URL('./onnx-inspect-worker.js', import.meta.url), {
      workerData: { path } satisfies InspectRequest,
    });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => {
      settle(() =>
        reject(new ModelError(`ONNX Runtime did not open the model within ${timeoutMs} ms`, '')),
      );
    }, timeoutMs);
    worker.once('message', (reply: InspectReply) => {
      settle(() => {
        if (reply.ok) resolve({ inputs: reply.inputs, outputs: reply.outputs });
        else reject(new ModelError(modelErrorMessage(reply.message, path), ''));
      });
    });
    worker.once('error', (err) => {
      settle(() =>
        reject(new ModelError(`ONNX Runtime failed: ${err.message}`, '', { cause: err })),
      );
    });
    worker.once('exit', (code) => {
      settle(() =>
        reject(new ModelError(`ONNX Runtime exited (code ${code}) while opening the model`, '')),
      );
    });
  });
}

function modelErrorMessage(ortMessage: string, path: string): string {
  // The temp file's name means nothing to the client.
  const text = ortMessage.replaceAll(path, 'the uploaded file');
  return /protobuf parsing failed/i.test(text)
    ? 'not an ONNX model (protobuf parsing failed)'
    : `ONNX Runtime cannot load the model: ${text}`;
}
