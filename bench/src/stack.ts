/**
 * One node of the stack as real processes, started the way the e2e tests start them
 * (test/src/support): a nats-server of its own, the inference service with the real YOLOX model,
 * ingest, and (full stack) rules, render and the RTSP server render publishes to.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '@sie/bus';
import {
  findFreePort,
  startNats,
  startServiceProcess,
  type NatsServer,
  type ServiceProcess,
} from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { startRtspServerProcess, type RtspServerProcess } from './rtsp.js';

export interface BenchStackOptions {
  modelPath: string;
  workers: number;
  /** Rules, render and the output RTSP server as well (the whole stack). */
  full: boolean;
  /** Dynamic batching of the inference service (a static-batch model ignores it). */
  maxBatch: number;
  maxQueueDelayUs: number;
}

export interface BenchStack {
  nodeId: string;
  nats: NatsServer;
  inference: ServiceProcess;
  ingest: ServiceProcess;
  rules: ServiceProcess | null;
  render: ServiceProcess | null;
  /** The RTSP server the annotated outputs go to. */
  rtsp: RtspServerProcess | null;
  bus: Bus;
  /** What the inference service was configured with (recorded in the results). */
  inferenceWorkers: number;
  intraOpThreads: number;
  maxBatch: number;
  maxQueueDelayUs: number;
  /** Root pids of every process of the stack, by name (their children are counted with them). */
  pids(): Record<string, number>;
  stop(): Promise<void>;
}

export async function startBenchStack(o: BenchStackOptions): Promise<BenchStack> {
  const work = mkdtempSync(join(tmpdir(), 'sie-bench-'));
  const frameDir = mkdtempSync(
    join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'sie-bench-frames-'),
  );
  const nats = await startNats({ port: await findFreePort(), storeDir: join(work, 'nats') });
  const nodeId = `bench-${process.pid}`;
  const grpcPort = await findFreePort();
  const started: { stop(): Promise<void> }[] = [];
  try {
    const inference = await startServiceProcess('inference', {
      SIE_GRPC__PORT: String(grpcPort),
      SIE_FRAME_STORE_DIR: frameDir,
      SIE_WORKERS__COUNT: String(o.workers),
      SIE_WORKERS__INTRA_OP_THREADS: '1',
      SIE_BATCHING__MAX_BATCH: String(o.maxBatch),
      SIE_BATCHING__MAX_QUEUE_DELAY_US: String(o.maxQueueDelayUs),
      SIE_MODELS: JSON.stringify([
        { id: 'yolox', path: o.modelPath, decoder: { type: 'yolox', decodedInGraph: true } },
      ]),
    });
    started.push(inference);
    const common = { NATS_URL: nats.url, SIE_NODE_ID: nodeId };
    const ingest = await startServiceProcess('ingest', {
      ...common,
      SIE_FRAME_STORE_DIR: frameDir,
      SIE_INFERENCE_URL: `127.0.0.1:${grpcPort}`,
      SIE_MAX_RUNS: '64',
    });
    started.push(ingest);
    let rules: ServiceProcess | null = null;
    let render: ServiceProcess | null = null;
    let rtsp: RtspServerProcess | null = null;
    if (o.full) {
      rtsp = await startRtspServerProcess();
      started.push(rtsp);
      rules = await startServiceProcess('rules', common);
      started.push(rules);
      render = await startServiceProcess('render', {
        ...common,
        SIE_FRAME_STORE_DIR: frameDir,
        SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${rtsp.port}`,
      });
      started.push(render);
    }
    const bus = await Bus.connect({
      servers: nats.url,
      name: 'bench',
      logger: createLogger({ service: 'bench', level: 'silent' }),
    });
    const pid = (p: { pid?: number | undefined } | undefined | null): number[] =>
      p?.pid !== undefined ? [p.pid] : [];
    return {
      nodeId,
      nats,
      inference,
      ingest,
      rules,
      render,
      rtsp,
      bus,
      inferenceWorkers: o.workers,
      intraOpThreads: 1,
      maxBatch: o.maxBatch,
      maxQueueDelayUs: o.maxQueueDelayUs,
      pids: () => {
        const out: Record<string, number> = {};
        const add = (name: string, p: number[]): void => {
          if (p[0] !== undefined) out[name] = p[0];
        };
        add('inference', pid(inference.child));
        add('ingest', pid(ingest.child));
        add('nats', pid(nats.process));
        add('rules', pid(rules?.child));
        add('render', pid(render?.child));
        add('rtsp', pid(rtsp?.child));
        return out;
      },
      stop: async () => {
        await bus.close();
        await Promise.all(started.map((s) => s.stop()));
        await nats.stop();
        rmSync(frameDir, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    await nats.stop();
    rmSync(frameDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}
