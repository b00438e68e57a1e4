import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bus,
  controlSubject,
  detectionsSubject,
  heartbeatSubject,
  stageReportSubject,
} from '@sie/bus';
import {
  FrameDetections,
  Heartbeat,
  NodePingRequest,
  NodeStatus,
  RunSpec,
  StageReport,
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
  type RetryPolicy,
} from '@sie/contracts';
import type { RunningService } from '@sie/service-kit';
import {
  createLogger,
  createMetricsRegistry,
  initTracing,
  type CheckResult,
  type Registry,
} from '@sie/telemetry';
import { ingestConfigSchema, type IngestConfig } from '../config.js';
import { startIngest } from '../service.js';

export const uid = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export interface TestIngest {
  config: IngestConfig;
  bus: Bus;
  registry: Registry;
  checks: Map<string, () => CheckResult>;
  info: Record<string, unknown>;
  start(spec: RunSpec): Promise<StartRunResponse>;
  stop(runId: string, generation: number): Promise<StopRunResponse>;
  ping(): Promise<NodeStatus>;
  watch(runId: string): RunWatch;
  close(): Promise<void>;
}

/**
 * The ingest service in this process, wired as runService would wire it (real NATS, real ffmpeg,
 * real frame store) but with the test's config and no process-wide signal handlers.
 */
export async function startIngestForTest(
  natsUrl: string,
  overrides: Record<string, unknown>,
): Promise<TestIngest> {
  const frameStoreDir = mkdtempSync(join(tmpdir(), 'sie-ingest-rings-'));
  const config = ingestConfigSchema.parse({
    nodeId: uid('node'),
    nats: { url: natsUrl },
    frameStoreDir,
    ...overrides,
  });
  const logger = createLogger({
    service: 'ingest-test',
    level: (process.env['SIE_TEST_LOG'] as 'debug' | undefined) ?? 'silent',
  });
  const registry = createMetricsRegistry('ingest', { node: config.nodeId });
  const bus = await Bus.connect({ servers: natsUrl, name: 'ingest-test', logger });
  const checks = new Map<string, () => CheckResult>();
  const info: Record<string, unknown> = {};
  const service: RunningService = await startIngest({
    config,
    logger,
    registry,
    // Registers W3C propagation as runService does; nothing is exported.
    tracing: initTracing({ service: 'ingest-test', sampleRatio: 0 }),
    bus,
    addCheck: (name, check) => checks.set(name, check),
    setInfo: (key, value) => {
      info[key] = value;
    },
  });
  const subject = (verb: 'start' | 'stop' | 'ping') =>
    controlSubject(config.nodeId, 'ingest', verb);
  const watches: RunWatch[] = [];
  return {
    config,
    bus,
    registry,
    checks,
    info,
    start: (run) => bus.request(subject('start'), StartRunRequest, { run }, StartRunResponse, 5000),
    stop: (runId, generation) =>
      bus.request(
        subject('stop'),
        StopRunRequest,
        { runId, generation, reason: 'test' },
        StopRunResponse,
        10_000,
      ),
    ping: () => bus.request(subject('ping'), NodePingRequest, {}, NodeStatus, 5000),
    watch: (runId) => {
      const w = new RunWatch(bus, runId);
      watches.push(w);
      return w;
    },
    close: async () => {
      await service.stop();
      for (const w of watches) w.close();
      await bus.close();
      rmSync(frameStoreDir, { recursive: true, force: true });
    },
  };
}

export interface RunSpecInput {
  runId: string;
  url: string;
  generation?: number;
  realtime?: boolean;
  loop?: boolean;
  modelId?: string;
  sampleFps?: number;
  outputWidth?: number;
  outputHeight?: number;
  retry?: Partial<RetryPolicy>;
}

export function runSpec(input: RunSpecInput): RunSpec {
  return RunSpec.fromPartial({
    runId: input.runId,
    tenantId: 'tenant-test',
    generation: input.generation ?? 1,
    pipeline: {
      modelId: input.modelId ?? 'fake-model',
      scoreThreshold: 0.3,
      classes: [],
      sampleFps: input.sampleFps ?? 0,
      outputWidth: input.outputWidth ?? 0,
      outputHeight: input.outputHeight ?? 0,
      retry: input.retry,
    },
    source: {
      url: input.url,
      loop: input.loop ?? false,
      realtime: input.realtime ?? false,
      rtspTransport: '',
    },
    outputPath: '',
  });
}

/** Everything one run publishes, recorded in arrival order. */
export class RunWatch {
  readonly detections: FrameDetections[] = [];
  readonly reports: (StageReport & { receivedAt: number })[] = [];
  readonly heartbeats: (Heartbeat & { receivedAt: number })[] = [];
  private readonly subs: { unsubscribe(): void }[];
  private readonly waiters = new Set<() => void>();

  constructor(bus: Bus, runId: string) {
    const poke = (): void => {
      for (const w of this.waiters) w();
    };
    this.subs = [
      bus.subscribe(detectionsSubject(runId), FrameDetections, (m) => {
        this.detections.push(m);
        poke();
      }),
      bus.subscribe(stageReportSubject(runId, 'ingest'), StageReport, (m) => {
        this.reports.push({ ...m, receivedAt: Date.now() });
        poke();
      }),
      bus.subscribe(heartbeatSubject(runId, 'ingest'), Heartbeat, (m) => {
        this.heartbeats.push({ ...m, receivedAt: Date.now() });
        poke();
      }),
    ];
  }

  /** Resolves once `condition` holds; rejects after `timeoutMs` saying what was awaited. */
  waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (detections ${this.detections.length}, reports ${JSON.stringify(this.reports.map((r) => [r.kind, r.error?.code, r.attempt]))})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  reportOf(kind: number): (StageReport & { receivedAt: number }) | undefined {
    return this.reports.find((r) => r.kind === kind);
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
