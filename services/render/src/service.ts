import type { Bus } from '@sie/bus';
import type { RunSpec } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import { FrameStoreReaders } from '@sie/framestore';
import { StageRunHost } from '@sie/service-kit';
import type { Logger, Registry } from '@sie/telemetry';
import type { RenderConfig } from './config.js';
import { RenderMetrics } from './metrics.js';
import { PreviewServer, RunPreview } from './preview.js';
import { RenderRun, outputUrlOf } from './render-run.js';

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
  previewPort: number | undefined;
  previewError: string | undefined;

  constructor(
    private readonly config: RenderConfig,
    private readonly bus: Bus,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.metrics = new RenderMetrics(registry);
    this.readers = new FrameStoreReaders(config.frameStoreDir);
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
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  async close(): Promise<void> {
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
    const r = new RenderRun(
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
