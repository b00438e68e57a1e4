import type { ChildProcess } from 'node:child_process';
import { findFreePort, startServiceProcess } from '@sie/infra';

export interface InferenceProcess {
  /** host:port of its gRPC server. */
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The real inference service (its compiled entry point) with no model loaded: the API's tests
 * register models through the API and so prove that inference picks them up without a restart.
 */
export async function startInferenceProcess(
  env: Record<string, string> = {},
): Promise<InferenceProcess> {
  const grpcPort = await findFreePort();
  const p = await startServiceProcess('inference', {
    SIE_GRPC__PORT: String(grpcPort),
    SIE_WORKERS__COUNT: '1',
    ...env,
  });
  return { url: `127.0.0.1:${grpcPort}`, child: p.child, output: p.output, stop: p.stop };
}
