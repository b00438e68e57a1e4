/**
 * What the scheduler's cross-service tests share: a private nats-server per test file (so the
 * schedulers of one file never see the nodes of another file running beside it), a fresh database
 * with a tenant, the model and a pipeline, real node processes (ingest, rules, render; inference)
 * and scheduler processes (given the inference address, as the deployed stack does: they load a
 * run's model before its start), and the rows the API would write for a run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '@sie/bus';
import {
  createDb,
  migrate,
  models,
  newId,
  pipelines,
  runTransitions,
  runs,
  tenants,
  type DbHandle,
  type PipelineConfigJson,
  type Run,
  type RunSourceJson,
  type RunStatus,
} from '@sie/db';
import {
  findFreePort,
  freshDatabase,
  startNats,
  type NatsServer,
  type TestDatabase,
} from '@sie/infra';
import { recordRunCreated, transitionRun } from '@sie/lifecycle';
import { createLogger } from '@sie/telemetry';
import { asc, eq, inArray } from 'drizzle-orm';
import { asset, testFrameStoreDir, yoloxModelsEnv } from './env.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

export const MODEL_ID = 'yolox';

export interface Stack {
  natsUrl: string;
  databaseUrl: string;
  db: DbHandle['db'];
  bus: Bus;
  frameDir: string;
  /** host:port of the stack's inference service; undefined when it has none. */
  inferenceUrl: string | undefined;
  tenantId: string;
  /** Processes started through the stack, stopped by `close()`. */
  processes: ServiceProcess[];
  close(): Promise<void>;
}

export interface StackOptions {
  /** Start the inference service (default true). */
  inference?: boolean;
  /** Inference loads MODEL_ID at startup (SIE_MODELS, default true); false: only LoadModel does. */
  preloadModel?: boolean;
}

/** A private nats-server and database, the inference service, and the rows runs hang on. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const work = mkdtempSync(join(tmpdir(), 'sie-sched-e2e-'));
  const [database, nats]: [TestDatabase, NatsServer] = await Promise.all([
    freshDatabase(),
    findFreePort().then((port) => startNats({ port, storeDir: join(work, 'nats') })),
  ]);
  await migrate(database.url);
  const handle = createDb(database.url, { max: 5 });
  const bus = await Bus.connect({
    servers: nats.url,
    name: 'scheduler-e2e',
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  const frameDir = testFrameStoreDir();
  const processes: ServiceProcess[] = [];
  let inferenceUrl: string | undefined;
  if (opts.inference !== false) {
    const grpcPort = await findFreePort();
    processes.push(
      await startServiceProcess('inference', {
        SIE_GRPC__PORT: String(grpcPort),
        SIE_FRAME_STORE_DIR: frameDir,
        SIE_MODELS: opts.preloadModel === false ? '[]' : yoloxModelsEnv(MODEL_ID),
      }),
    );
    inferenceUrl = `127.0.0.1:${grpcPort}`;
  }
  const tenantId = newId('ten');
  await handle.db.insert(tenants).values({ id: tenantId, name: 'e2e' });
  await handle.db.insert(models).values({
    id: MODEL_ID,
    tenantId,
    name: 'yolox-nano',
    task: 'detect',
    decoder: { type: 'yolox', decodedInGraph: true },
    inputWidth: 416,
    inputHeight: 416,
    classNames: [],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash: 'e'.repeat(64),
    filePath: asset('models/yolox_nano_coco.onnx'),
    sizeBytes: 1,
  });
  return {
    natsUrl: nats.url,
    databaseUrl: database.url,
    db: handle.db,
    bus,
    frameDir,
    inferenceUrl,
    tenantId,
    processes,
    async close() {
      await Promise.allSettled(processes.map((p) => resume(p) && p.stop()));
      await bus.close().catch(() => undefined);
      await handle.close();
      await Promise.allSettled([database.drop(), nats.stop()]);
      rmSync(work, { recursive: true, force: true });
      rmSync(frameDir, { recursive: true, force: true });
    },
  };
}

/** A SIGSTOPped process cannot stop gracefully: let it go on first. */
function resume(p: ServiceProcess): true {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGCONT');
  return true;
}

export async function createPipeline(
  stack: Stack,
  config: PipelineConfigJson,
  modelId = MODEL_ID,
): Promise<string> {
  const id = newId('pl');
  await stack.db
    .insert(pipelines)
    .values({ id, tenantId: stack.tenantId, name: 'e2e', modelId, config });
  return id;
}

/**
 * A model registered the way the API registers an upload (a YOLOX row pointing at `filePath`),
 * which no inference service has loaded yet.
 */
export async function registerModel(stack: Stack, filePath: string): Promise<string> {
  const id = newId('mdl');
  await stack.db.insert(models).values({
    id,
    tenantId: stack.tenantId,
    name: 'uploaded',
    task: 'detect',
    decoder: { type: 'yolox', decodedInGraph: true, letterbox: 'top-left' },
    inputWidth: 416,
    inputHeight: 416,
    // Empty: inference's default, the 80 COCO classes of the YOLOX release.
    classNames: [],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash: id.padEnd(64, '0').slice(0, 64),
    filePath,
    sizeBytes: 1,
  });
  return id;
}

export interface Node {
  nodeId: string;
  ingest: ServiceProcess;
  rules: ServiceProcess;
  render: ServiceProcess;
}

/** One node: ingest, rules and render processes with the node id. */
export async function startNode(
  stack: Stack,
  nodeId: string,
  env: Record<string, string> = {},
): Promise<Node> {
  const common = { NATS_URL: stack.natsUrl, SIE_NODE_ID: nodeId, ...env };
  const [ingest, rules, render] = await Promise.all([
    startServiceProcess('ingest', {
      ...common,
      SIE_FRAME_STORE_DIR: stack.frameDir,
      // Nothing listens there: a stack without inference has runs that fail at Detect.
      SIE_INFERENCE_URL: stack.inferenceUrl ?? '127.0.0.1:1',
    }),
    startServiceProcess('rules', common),
    // Render reads frames from the node's frame store; its RTSP output goes nowhere here.
    startServiceProcess('render', { ...common, SIE_FRAME_STORE_DIR: stack.frameDir }),
  ]);
  stack.processes.push(ingest, rules, render);
  return { nodeId, ingest, rules, render };
}

export async function startScheduler(
  stack: Stack,
  schedulerId: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const p = await startServiceProcess('scheduler', {
    NATS_URL: stack.natsUrl,
    DATABASE_URL: stack.databaseUrl,
    SIE_SCHEDULER_ID: schedulerId,
    SIE_POLL_INTERVAL_MS: '250',
    ...(stack.inferenceUrl ? { SIE_INFERENCE_URL: stack.inferenceUrl } : {}),
    ...env,
  });
  stack.processes.push(p);
  return p;
}

/** Enqueues a run the way the API does: the row and its creation record, one transaction. */
export async function enqueueRun(
  stack: Stack,
  pipelineId: string,
  source: RunSourceJson,
): Promise<string> {
  const id = newId('run');
  await stack.db.transaction(async (tx) => {
    await tx.insert(runs).values({
      id,
      tenantId: stack.tenantId,
      pipelineId,
      pipelineVersion: 1,
      source,
    });
    await recordRunCreated(tx, { runId: id, tenantId: stack.tenantId, actor: 'test' });
  });
  return id;
}

/**
 * Asks for a run to stop the way the API's POST /v1/runs/:id/stop does: desired state stopped,
 * and a run not placed yet goes straight to init_shutdown.
 */
export async function requestStop(stack: Stack, runId: string): Promise<void> {
  await stack.db.transaction(async (tx) => {
    const [run] = await tx.select().from(runs).where(eq(runs.id, runId)).for('update');
    if (!run) throw new Error(`no run ${runId}`);
    await tx.update(runs).set({ desiredState: 'stopped' }).where(eq(runs.id, runId));
    if (run.status === 'init_startup') {
      await transitionRun(tx, {
        runId,
        tenantId: run.tenantId,
        from: 'init_startup',
        to: 'init_shutdown',
        generation: run.leaseGeneration,
        reason: 'stop_requested',
        message: 'stop requested before the run was placed',
        actor: 'api',
      });
    }
  });
}

export async function getRun(stack: Stack, id: string): Promise<Run> {
  const [run] = await stack.db.select().from(runs).where(eq(runs.id, id));
  if (!run) throw new Error(`no run ${id}`);
  return run;
}

export async function getRuns(stack: Stack, ids: string[]): Promise<Run[]> {
  return stack.db.select().from(runs).where(inArray(runs.id, ids));
}

export async function transitions(stack: Stack, id: string) {
  return stack.db
    .select()
    .from(runTransitions)
    .where(eq(runTransitions.runId, id))
    .orderBy(asc(runTransitions.id));
}

/** Polls until `probe` gives a value (not undefined/false), or fails naming what it waited for. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits for a run to reach `status` (failing early, with its reason, if it ends elsewhere). */
export async function waitForStatus(
  stack: Stack,
  id: string,
  status: RunStatus,
  timeoutMs: number,
): Promise<Run> {
  return until(
    `run ${id} to be ${status}`,
    async () => {
      const run = await getRun(stack, id);
      if (run.status === status) return run;
      if ((run.status === 'failed' || run.status === 'inactive') && run.status !== status) {
        throw new Error(`run ${id} ended ${run.status}/${run.reasonCode}: ${run.reasonMessage}`);
      }
      return undefined;
    },
    timeoutMs,
  );
}

/** The pids of the ffmpeg processes a process started (its direct children named ffmpeg). */
export function ffmpegChildren(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no child
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'ffmpeg')
    .map(([p]) => Number(p));
}

/** A short looped test video (small frames, low rate) for tests with many runs. */
export function makeSmallVideo(dir: string): string {
  const file = join(dir, 'small.avi');
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=5',
    '-t',
    '10',
    '-c:v',
    'mpeg4',
    '-q:v',
    '5',
    file,
  ]);
  return file;
}
