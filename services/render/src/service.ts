import { resolve } from 'node:path';
import type { Bus } from '@sie/bus';
import type { RunSpec } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import { FrameStoreReaders } from '@sie/framestore';
import { StageRunHost } from '@sie/service-kit';
import type { Logger, Registry } from '@sie/telemetry';
import type { RenderConfig } from './config.js';
import type { Raster } from './draw.js';
import { captureSchema, snapshotsSchema } from '@sie/pipeline';
import { createDestination } from './capture/destinations.js';
import { FrameCapture } from './capture/frame-capture.js';
import { EventSnapshots } from './event-snapshots.js';
import { Limiter } from './jpeg.js';
import { RenderMetrics } from './metrics.js';
import { PreviewServer, RunPreview } from './preview.js';
import { RenderRun, outputUrlOf, styleOf } from './render-run.js';
import { SnapshotStore } from './snapshot-store.js';

/**
 * The render service of a node: holds runs for the scheduler (StageRunHost) and gives each its
 * RenderRun (draw, encode, publish) and browser preview.
 */
export class RenderService {
  readonly metrics: RenderMetrics;
  private readonly runs = new Map<string, RenderRun>();
  private readonly previews = new Map<string, RunPreview>();
  private readonly readers: FrameStoreReaders;
  private readonly host: StageRunHost;
  private readonly previewServer: PreviewServer | undefined;
  private readonly snapshotStore: SnapshotStore;
  private readonly jpegLimiter: Limiter;
  private sweepTimer: NodeJS.Timeout | undefined;
  previewPort: number | undefined;
  previewError: string | undefined;

  constructor(
    private readonly config: RenderConfig,
    private readonly bus: Bus,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.metrics = new RenderMetrics(registry);
    this.snapshotStore = new SnapshotStore(resolve(config.snapshotDir));
    this.jpegLimiter = new Limiter(config.jpegConcurrency);
    this.readers = new FrameStoreReaders(config.frameStoreDir, config.frameStoreAccess);
    this.host = new StageRunHost(
      {
        bus,
        nodeId: config.nodeId,
        stage: 'render',
        maxRuns: config.maxRuns,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        logger,
      },
      {
        start: (run) => this.startRun(run),
        stop: (runId) => this.stopRun(runId),
        counters: (runId) => {
          const m = this.runs.get(runId)?.deps.metrics;
          return m
            ? { framesIn: m.framesIn, framesOut: m.framesOut, framesDropped: m.framesDropped }
            : { framesIn: 0, framesOut: 0, framesDropped: 0 };
        },
      },
    );
    if (config.preview.enabled) {
      this.previewServer = new PreviewServer((id) => this.previews.get(id), logger);
    }
  }

  async start(): Promise<void> {
    if (this.previewServer) {
      try {
        this.previewPort = await this.previewServer.listen(
          this.config.preview.host,
          this.config.preview.port,
        );
      } catch (err) {
        // The preview is a convenience: a taken port (a second render on the host) must not keep
        // the outputs from running. /healthz's info says the preview is off and why.
        this.previewError = (err as Error).message;
        this.logger.error({ err, port: this.config.preview.port }, 'preview unavailable');
      }
    }
    this.host.start();
    // Retention by age needs a clock of its own: a run without new events writes nothing.
    this.sweepTimer = setInterval(() => {
      this.snapshotStore.sweep(Date.now()).catch((err: unknown) => {
        this.logger.warn({ err }, 'snapshot sweep failed');
      });
    }, this.config.snapshots.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.host.close();
    await this.previewServer?.close();
    this.readers.closeAll();
  }

  private startRun(run: RunSpec): Promise<void> {
    const path = run.outputPath || run.runId;
    if (!/^[A-Za-z0-9_\-./]{1,200}$/.test(path) || path.includes('..')) {
      throw new InvalidArgumentError(`bad output path ${JSON.stringify(path)}`, 'outputPath');
    }
    const c = this.config;
    const preview = c.preview.enabled
      ? new RunPreview(
          run.runId,
          {
            fps: c.preview.fps,
            quality: c.preview.quality,
            maxClients: c.preview.maxClients,
            killGraceMs: c.killGraceMs,
          },
          this.logger,
          (delta) => this.metrics.previewClients.inc(delta),
        )
      : undefined;
    const snapshots = this.snapshotsOf(run, () => r.latestAnnotated());
    const capture = this.captureOf(run);
    const r: RenderRun = new RenderRun(
      run,
      {
        rtspPublishUrl: c.rtspPublishUrl,
        rtspTransport: c.rtspTransport,
        encoder: c.encoder,
        defaultFps: c.defaultFps,
        gopSeconds: c.gopSeconds,
        bitrateKbps: c.bitrateKbps,
        slateAfterMs: c.slateAfterMs,
        fallbackWidth: c.fallbackWidth,
        fallbackHeight: c.fallbackHeight,
        style: c.style,
        killGraceMs: c.killGraceMs,
        encoderRestart: c.encoderRestart,
      },
      {
        bus: this.bus,
        readers: this.readers,
        metrics: this.metrics.forRun(run.runId),
        logger: this.logger,
        preview,
        snapshots,
        capture,
      },
    );
    this.runs.set(run.runId, r);
    if (preview) this.previews.set(run.runId, preview);
    this.metrics.activeRuns.set(this.runs.size);
    r.start();
    this.logger.info(
      { run: run.runId, output: outputUrlOf(run, c.rtspPublishUrl) },
      'render run started',
    );
    return Promise.resolve();
  }

  /** The run's event snapshots, when its pipeline turns them on. */
  private snapshotsOf(
    run: RunSpec,
    latestAnnotated: () => Raster | undefined,
  ): EventSnapshots | undefined {
    const json = run.pipeline?.snapshotsJson;
    if (!json) return undefined;
    const parsed = snapshotsSchema.safeParse(parseJson(json));
    if (!parsed.success) {
      throw new InvalidArgumentError(`bad snapshots settings: ${parsed.error.message}`, 'pipeline');
    }
    if (!parsed.data.enabled) return undefined;
    const p = run.pipeline;
    const c = this.config;
    return new EventSnapshots(
      run.tenantId,
      run.runId,
      parsed.data,
      {
        style: styleOf(run, c.style),
        outputSize:
          p && p.outputWidth > 0 && p.outputHeight > 0
            ? { width: p.outputWidth, height: p.outputHeight }
            : undefined,
        overlayWaitMs: c.snapshots.overlayWaitMs,
      },
      {
        bus: this.bus,
        readers: this.readers,
        store: this.snapshotStore,
        limiter: this.jpegLimiter,
        metrics: {
          written: () => this.metrics.snapshotsWritten.inc(),
          error: () => this.metrics.snapshotErrors.inc(),
        },
        logger: this.logger,
        latestAnnotated,
      },
    );
  }

  /**
   * The run's dataset capture, when its pipeline turns it on. A destination this node cannot
   * build (a directory outside its root, credentials missing) is logged and counted; the run goes
   * on without capture.
   */
  private captureOf(run: RunSpec): FrameCapture | undefined {
    const json = run.pipeline?.captureJson;
    if (!json) return undefined;
    const parsed = captureSchema.safeParse(parseJson(json));
    if (!parsed.success) {
      throw new InvalidArgumentError(`bad capture settings: ${parsed.error.message}`, 'pipeline');
    }
    const config = parsed.data;
    if (!config.enabled || !config.destination) return undefined;
    let destination;
    try {
      destination = createDestination(config.destination, {
        rootDir: this.config.capture.rootDir,
        env: process.env,
      });
    } catch (err) {
      this.metrics.captureErrors.inc();
      this.logger.error({ err, run: run.runId }, 'capture off for this run');
      return undefined;
    }
    return new FrameCapture(
      run.runId,
      config,
      run.pipeline?.modelId ?? '',
      {
        destination,
        readers: this.readers,
        limiter: this.jpegLimiter,
        metrics: {
          frame: (d) => this.metrics.captureFrames.inc({ destination: d }),
          error: () => this.metrics.captureErrors.inc(),
        },
        logger: this.logger,
      },
      this.config.capture.maxPending,
    );
  }

  private async stopRun(runId: string): Promise<void> {
    const r = this.runs.get(runId);
    if (!r) return;
    this.runs.delete(runId);
    this.previews.delete(runId);
    this.metrics.activeRuns.set(this.runs.size);
    await r.stop();
    r.deps.metrics.remove();
  }
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
