/**
 * The whole of sie as supervised real processes for the fault suite: its own Postgres and
 * nats-server (on fixed ports, so the suite can stop and start them again), inference, ingest,
 * rules, render, the scheduler, the API and the RTSP server that takes the annotated output;
 * plus cameras (RTSP) the runs read from. Each file of the suite starts one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '@sie/bus';
import { createDb, migrate, models, runs, tenants, type DbHandle, type Run } from '@sie/db';
import {
  findFreePort,
  startNats,
  startPostgres,
  type NatsServer,
  type PostgresServer,
} from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { inArray } from 'drizzle-orm';
import { asset, testFrameStoreDir } from '../support/env.js';
import { CameraServer, encodeH264 } from './cameras.js';
import { Supervised, type ProcName } from './supervisor.js';

export const TENANT = 'faults';
export const MODEL_ID = 'mdl-yolox-faults';

export interface FaultStackOptions {
  /** Scheduler lease (how long a silent stage is tolerated before the run restarts). */
  leaseMs?: number;
  maxRestarts?: number;
  /** Extra environment per process. */
  env?: Partial<Record<ProcName, Record<string, string>>>;
}

type Body = Record<string, unknown>;

export class FaultStack {
  readonly procs = new Map<ProcName, Supervised>();
  db!: DbHandle;
  bus!: Bus;
  cameras!: CameraServer;
  /** vtest.avi as 384x288 H.264 (small frames keep four runs cheap on two cores). */
  video = '';
  apiUrl = '';
  rtspOutPort = 0;
  nodeId = `faults-${process.pid}`;
  private pg!: PostgresServer;
  private nats!: NatsServer;
  private pgPort = 0;
  private natsPort = 0;
  private readonly work = mkdtempSync(join(tmpdir(), 'sie-faults-'));
  readonly frameDir = testFrameStoreDir();

  constructor(readonly options: FaultStackOptions = {}) {}

  get scratch(): string {
    return this.work;
  }

  get databaseUrl(): string {
    return this.pg.url;
  }

  get natsUrl(): string {
    return this.nats.url;
  }

  proc(name: ProcName): Supervised {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no ${name} in this stack`);
    return p;
  }

  async start(): Promise<void> {
    [this.pgPort, this.natsPort] = [await findFreePort(), await findFreePort()];
    [this.pg, this.nats, this.cameras] = await Promise.all([
      this.startPostgres(),
      this.startNats(),
      CameraServer.start(),
    ]);
    await migrate(this.pg.url);
    this.db = createDb(this.pg.url, { max: 4 });
    await this.db.db.insert(tenants).values({ id: TENANT, name: TENANT });
    await this.db.db.insert(models).values({
      id: MODEL_ID,
      tenantId: TENANT,
      name: 'yolox-nano',
      task: 'detect',
      decoder: { type: 'yolox', decodedInGraph: true },
      inputWidth: 416,
      inputHeight: 416,
      classNames: [],
      pixelOrder: 'bgr',
      pixelScale: 1,
      padValue: 114,
      contentHash: 'f'.repeat(64),
      filePath: asset('models/yolox_nano_coco.onnx'),
      sizeBytes: 1,
    });
    this.bus = await Bus.connect({
      servers: this.nats.url,
      name: 'faults-test',
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    this.video = encodeH264(asset('media/vtest.avi'), this.work, 'cam.mkv', {
      width: 384,
      height: 288,
    });

    const grpc = `127.0.0.1:${await findFreePort()}`;
    const apiPort = await findFreePort();
    this.rtspOutPort = await findFreePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    const leaseMs = String(this.options.leaseMs ?? 4000);
    const extra = this.options.env ?? {};
    const node = { NATS_URL: this.nats.url, SIE_NODE_ID: this.nodeId };
    const env: Record<ProcName, Record<string, string>> = {
      // As deployed (deploy/local): no models at startup, the scheduler loads each run's model.
      inference: {
        SIE_GRPC__PORT: grpc.split(':')[1] ?? '',
        SIE_FRAME_STORE_DIR: this.frameDir,
        SIE_MODELS: '[]',
      },
      rtsp: { SIE_RTSP_PORT: String(this.rtspOutPort), SIE_RTSP_HOST: '127.0.0.1' },
      ingest: { ...node, SIE_FRAME_STORE_DIR: this.frameDir, SIE_INFERENCE_URL: grpc },
      rules: { ...node },
      render: {
        ...node,
        SIE_FRAME_STORE_DIR: this.frameDir,
        SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${this.rtspOutPort}`,
      },
      scheduler: {
        NATS_URL: this.nats.url,
        DATABASE_URL: this.pg.url,
        SIE_INFERENCE_URL: grpc,
        SIE_SCHEDULER_ID: `faults-sched-${process.pid}`,
        SIE_POLL_INTERVAL_MS: '250',
        SIE_LEASE_MS: leaseMs,
        SIE_MAX_RESTARTS: String(this.options.maxRestarts ?? 100),
      },
      api: {
        NATS_URL: this.nats.url,
        DATABASE_URL: this.pg.url,
        SIE_HTTP__PORT: String(apiPort),
        SIE_DATA_DIR: join(this.work, 'api-data'),
        SIE_INFERENCE_URL: grpc,
      },
    };
    const make = (name: ProcName): Supervised => {
      const p = new Supervised(name, { ...env[name], ...extra[name] });
      this.procs.set(name, p);
      return p;
    };
    // deploy/local's order: inference and the RTSP server, the stages, then scheduler and api.
    await Promise.all([make('inference').start(), make('rtsp').start()]);
    await Promise.all(['ingest', 'rules', 'render'].map((n) => make(n as ProcName).start()));
    await Promise.all([make('scheduler').start(), make('api').start()]);
  }

  /** A REST call as tenant TENANT. */
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        'x-sie-tenant': TENANT,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: Body = {};
    try {
      parsed = text ? (JSON.parse(text) as Body) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  }

  /** A pipeline through the API; `config` is merged over a cheap default (2 frames/s). */
  async createPipeline(name: string, config: Body = {}): Promise<string> {
    const res = await this.api('POST', '/v1/pipelines', {
      name,
      modelId: MODEL_ID,
      config: { sampleFps: 2, scoreThreshold: 0.3, ...config },
    });
    if (res.status !== 201) throw new Error(`pipeline: ${res.status} ${JSON.stringify(res.body)}`);
    return String(res.body.id);
  }

  /** A run through the API; resolves with its id (not waiting for it to start). */
  async createRun(pipelineId: string, source: Body, outputPath: string): Promise<string> {
    const res = await this.api('POST', '/v1/runs', {
      pipelineId,
      source,
      output: { path: outputPath },
    });
    if (res.status !== 202) throw new Error(`run: ${res.status} ${JSON.stringify(res.body)}`);
    return String(res.body.id);
  }

  async runs(ids: string[]): Promise<Run[]> {
    return this.db.db.select().from(runs).where(inArray(runs.id, ids));
  }

  /** Stops nats-server (SIGTERM, JetStream flushed), waits `downMs`, starts it on the same port. */
  async restartNats(downMs: number): Promise<void> {
    await this.nats.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.nats = await this.startNats();
  }

  /** Stops Postgres (fast shutdown), waits `downMs`, starts it again on the same data. */
  async restartPostgres(downMs: number): Promise<void> {
    await this.pg.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.pg = await this.startPostgres();
  }

  async close(): Promise<void> {
    // The api and scheduler first (they command the stages), as deploy/local stops them.
    for (const group of [
      ['api', 'scheduler'],
      ['ingest', 'rules', 'render'],
      ['inference', 'rtsp'],
    ]) {
      await Promise.allSettled(
        group.map((n) => this.procs.get(n as ProcName)?.stop() ?? Promise.resolve()),
      );
    }
    await this.bus?.close().catch(() => undefined);
    await this.db?.close().catch(() => undefined);
    await this.cameras?.stop().catch(() => undefined);
    await Promise.allSettled([this.nats?.stop(), this.pg?.stop()]);
    rmSync(this.work, { recursive: true, force: true });
    rmSync(this.frameDir, { recursive: true, force: true });
  }

  private startPostgres(): Promise<PostgresServer> {
    return startPostgres({ dataDir: join(this.work, 'pg'), port: this.pgPort });
  }

  private startNats(): Promise<NatsServer> {
    return startNats({ port: this.natsPort, storeDir: join(this.work, 'nats') });
  }
}
