import { stat } from 'node:fs/promises';
import { ModelError } from '@sie/errors';
import { InferenceSession } from 'onnxruntime-node';

export interface OpenSessionOptions {
  modelId: string;
  path: string;
  executionProvider: 'cpu' | 'cuda';
  cpuFallback: boolean;
  intraOpThreads: number;
}

export interface OpenedSession {
  session: InferenceSession;
  executionProvider: 'cpu' | 'cuda';
  /** Why the session runs on another provider than configured; null when it does not. */
  warning: string | null;
}

/**
 * Creates an ONNX Runtime session, turning every failure into a ModelError that names the cause
 * (missing file, not an ONNX file, CUDA unavailable).
 */
export async function openSession(o: OpenSessionOptions): Promise<OpenedSession> {
  try {
    const s = await stat(o.path);
    if (!s.isFile()) throw new Error('not a regular file');
  } catch (cause) {
    throw new ModelError(
      `model file ${o.path} cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`,
      o.modelId,
      { cause },
    );
  }
  if (o.executionProvider === 'cuda') {
    try {
      return { session: await create(o, 'cuda'), executionProvider: 'cuda', warning: null };
    } catch (cause) {
      const why = describe(cause);
      if (!o.cpuFallback) {
        throw new ModelError(
          `CUDA execution provider unavailable for ${o.path}: ${why}`,
          o.modelId,
          {
            cause,
          },
        );
      }
      const session = await createOrFail(o, 'cpu');
      return {
        session,
        executionProvider: 'cpu',
        warning: `CUDA execution provider unavailable (${why}); running on the CPU`,
      };
    }
  }
  return { session: await createOrFail(o, 'cpu'), executionProvider: 'cpu', warning: null };
}

function create(o: OpenSessionOptions, ep: 'cpu' | 'cuda'): Promise<InferenceSession> {
  return InferenceSession.create(o.path, {
    executionProviders: [ep],
    intraOpNumThreads: o.intraOpThreads,
    // One request at a time per session: parallelism comes from the worker threads.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

async function createOrFail(o: OpenSessionOptions, ep: 'cpu' | 'cuda'): Promise<InferenceSession> {
  try {
    return await create(o, ep);
  } catch (cause) {
    const why = describe(cause);
    const what = /protobuf parsing failed/i.test(why)
      ? `${o.path} is not an ONNX model (protobuf parsing failed)`
      : `ONNX Runtime cannot load ${o.path}: ${why}`;
    throw new ModelError(what, o.modelId, { cause });
  }
}

function describe(err: unknown): string {
  // ORT messages may carry ANSI colour codes and long native paths; keep the first line, plain.
  const text = err instanceof Error ? err.message : String(err);
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')[0]
      ?.trim() ?? text
  );
}
