import { rmSync } from 'node:fs';
import { Bus } from '@sie/bus';
import { findFreePort } from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { natsUrl, testFrameStoreDir, yoloxModelsEnv } from './env.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/** The frame path of one node as real processes: inference (real YOLOX) and ingest, plus a bus. */
export interface NodeStack {
  nodeId: string;
  frameDir: string;
  grpcAddress: string;
  inference: ServiceProcess;
  ingest: ServiceProcess;
  bus: Bus;
  stop(): Promise<void>;
}

export async function startNodeStack(
  name: string,
  options: { modelId?: string; env?: Record<string, string> } = {},
): Promise<NodeStack> {
  const modelId = options.modelId ?? 'yolox';
  const env = options.env ?? {};
  const nodeId = `${name}-${process.pid}`;
  const frameDir = testFrameStoreDir();
  const grpcAddress = `127.0.0.1:${await findFreePort()}`;
  const inference = await startServiceProcess('inference', {
    SIE_GRPC__PORT: grpcAddress.split(':')[1] ?? '',
    SIE_FRAME_STORE_DIR: frameDir,
    SIE_MODELS: yoloxModelsEnv(modelId),
    ...env,
  });
  const ingest = await startServiceProcess('ingest', {
    NATS_URL: natsUrl(),
    SIE_NODE_ID: nodeId,
    SIE_FRAME_STORE_DIR: frameDir,
    SIE_INFERENCE_URL: grpcAddress,
    ...env,
  });
  const bus = await Bus.connect({
    servers: natsUrl(),
    name: `${name}-test`,
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  return {
    nodeId,
    frameDir,
    grpcAddress,
    inference,
    ingest,
    bus,
    stop: async () => {
      await bus.close();
      await Promise.all([ingest.stop(), inference.stop()]);
      rmSync(frameDir, { recursive: true, force: true });
    },
  };
}
