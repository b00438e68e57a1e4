/**
 * Pipeline points: N concurrent runs of the sample video through the real ingest and inference
 * processes, measured over a fixed window once every run is producing detections.
 */
import { performance } from 'node:perf_hooks';
import {
  allDetectionsSubject,
  allStageReportsSubject,
  controlSubject,
  runIdFromSubject,
  type StageName,
} from '@sie/bus';
import {
  FrameDetections,
  StageEventKind,
  StageReport,
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
} from '@sie/contracts';
import { histogramDistribution, type Distribution } from './histogram.js';
import { startLoadMeter, waitForQuiet } from './load.js';
import { sampleTrees, treeCpu, type ProcessTree } from './proc.js';
import { scrape, sumMetric, type MetricSample } from './prometheus.js';
import type { SoakSample } from './soak.js';
import { startCameras, type Cameras, type RtspServerProcess } from './rtsp.js';
import type { BenchStack } from './stack.js';
import { log, mean, nowMs, percentile, selfCpuSeconds, sleep } from './util.js';

/**
 * `throughput`: file sources decoded as fast as they go (backpressure); `live`: file sources in
 * real time; `rtsp`: RTSP cameras in real time (the deployment's case).
 */
export type PointMode = 'throughput' | 'live' | 'rtsp';

export interface PointSpec {
  /** Short id, also the prefix of the run ids. */
  label: string;
  mode: PointMode;
  streams: number;
  /** Frames per second each run keeps (pipeline.sampleFps); 0 keeps the source rate. */
  sampleFps: number;
  /** A soak: the window lasts `minutes`, sampled every `everyS` seconds. */
  soak?: { minutes: number; everyS: number };
}

export interface PointContext {
  video: string;
  /** The source's frame rate (what a live run offers when sampleFps is 0). */
  sourceFps: number;
  windowS: number;
  warmupS: number;
  cores: number;
  /**
   * Floor CPU ms per frame: `bare` decodes the file (throughput points), `camera` the cameras'
   * H.264 (rtsp points); `engine` is the engine's own inference path.
   */
  floors: { bare: number; camera: number; engine: number } | null;
  /** Longest wait for a quiet machine before each point. */
  quietWaitS: number;
  /** Where `rtsp` points get their cameras: a camera RTSP server and the H.264 file they loop. */
  cameras: { server: RtspServerProcess; file: string } | null;
}

export interface CpuSeconds {
  inference: number;
  ingest: number;
  /** ffmpeg (and ffprobe) children of ingest. */
  ffmpeg: number;
  nats: number;
  rules: number;
  render: number;
  /** ffmpeg encoders (children of render). */
  encode: number;
  /** The output RTSP server. */
  rtsp: number;
  /** This bench process (subscriber, /proc sampling): not part of the stack. */
  bench: number;
}

export interface PointResult extends PointSpec {
  windowS: number;
  /** Frames per second the runs were offered (live: streams × rate); null when unpaced. */
  offeredFps: number | null;
  /** Detections messages received during the window. */
  frames: number;
  aggregateFps: number;
  perStreamFps: { min: number; mean: number; max: number };
  cpuS: CpuSeconds;
  /** Average cores that processes outside the stack and this bench kept busy in the window. */
  otherCores: number;
  /** CPU ms per processed frame of every process of the stack (children included). */
  stackCpuMsPerFrame: number;
  cpuMsPerFrame: {
    inference: number;
    ingest: number;
    ffmpeg: number;
    nats: number;
    rules: number;
    render: number;
    encode: number;
    rtsp: number;
  };
  /** Stack CPU ÷ (window × cores). */
  cpuUtilization: number;
  /** The floor this point is judged by (file decode for throughput, camera decode for rtsp). */
  floorCpuMs: number | null;
  /** That floor (decode + best session.run + encode) CPU per frame ÷ stack CPU per frame. */
  efficiency: number | null;
  /** Engine floor (decode + letterbox + session.run + box decode) ÷ stack CPU per frame. */
  efficiencyVsEngineFloor: number | null;
  /** Measurements of this point taken (others disturbed the earlier ones); this is the least disturbed. */
  attempts: number;
  /** FrameDetections.latencyMs: frame decoded (captureTimeMs) → detections ready in ingest. */
  latencyMs: Distribution;
  /** captureTimeMs → the bench received the detections from NATS. */
  receiveLatencyMs: Distribution;
  /**
   * Capture → frame handed to the encoder (render's sie_render_e2e_latency_ms, bucket
   * resolution, interpolated); null without render.
   */
  e2eLatencyMs: Distribution | null;
  /** Frames render dropped in the window, by reason. */
  renderDropped: Record<string, number>;
  /** Mean StageTimings the inference service reported. */
  serviceTimingsMs: {
    queue: number;
    read: number;
    preprocess: number;
    inference: number;
    postprocess: number;
  };
  ingest: {
    decoded: number;
    published: number;
    dropped: Record<string, number>;
    /** Dropped ÷ decoded during the window. */
    dropRate: number;
  };
  rssMB: {
    inference: number;
    ingest: number;
    ffmpegTotal: number;
    ffmpegPerStream: number;
    nats: number;
    /** Largest value seen during the window. */
    inferenceMax: number;
    ingestMax: number;
    /** Every process of the stack (children included) at the end of the window. */
    stackTotal: number;
    perStream: number;
  };
  errors: string[];
  /** The soak's samples (soak points only). */
  soakSamples?: SoakSample[];
}

interface RunStats {
  total: number;
  window: number;
}

interface WindowData {
  latency: number[];
  receive: number[];
  timings: {
    queue: number;
    read: number;
    preprocess: number;
    inference: number;
    postprocess: number;
  };
  timed: number;
}

/** Routes the stack's detections and stage reports to the point being measured. */
export class PipelineBench {
  private runs = new Map<string, RunStats>();
  private window: WindowData | undefined;
  private errors: string[] = [];
  private measured = 0;

  constructor(
    private readonly stack: BenchStack,
    private readonly ctx: PointContext,
  ) {
    stack.bus.subscribe(allDetectionsSubject(), FrameDetections, (d, delivery) => {
      const runId = d.frame?.runId ?? runIdFromSubject(delivery.subject) ?? '';
      const stats = this.runs.get(runId);
      if (!stats) return;
      stats.total++;
      const w = this.window;
      if (!w || !d.frame) return;
      stats.window++;
      w.latency.push(d.latencyMs);
      w.receive.push(nowMs() - d.frame.captureTimeMs);
      if (d.timings) {
        w.timed++;
        w.timings.queue += d.timings.queueMs;
        w.timings.read += d.timings.readMs;
        w.timings.preprocess += d.timings.preprocessMs;
        w.timings.inference += d.timings.inferenceMs;
        w.timings.postprocess += d.timings.postprocessMs;
      }
    });
    stack.bus.subscribe(allStageReportsSubject(), StageReport, (r, delivery) => {
      const runId = delivery.subject.split('.')[2] ?? '';
      if (!this.runs.has(runId)) return;
      if (
        r.kind === StageEventKind.STAGE_EVENT_KIND_FAILED ||
        r.kind === StageEventKind.STAGE_EVENT_KIND_ENDED
      ) {
        this.errors.push(
          `${runId}: ${StageEventKind[r.kind]} ${r.error?.code ?? ''} ${r.error?.message ?? ''}`.trim(),
        );
      }
    });
  }

  async measure(spec: PointSpec): Promise<PointResult> {
    const { stack, ctx } = this;
    // Run ids are never reused: a stopped run's id and generation may still be remembered.
    const n = ++this.measured;
    const runIds = Array.from({ length: spec.streams }, (_, i) => `${spec.label}-m${n}-${i + 1}`);
    this.runs = new Map(runIds.map((id) => [id, { total: 0, window: 0 }]));
    this.errors = [];
    const pids = stack.pids();
    const roots = Object.values(pids);
    const infPid = pids['inference'];
    const ingPid = pids['ingest'];
    const natsPid = pids['nats'];
    if (infPid === undefined || ingPid === undefined || natsPid === undefined) {
      throw new Error('a stack process has no pid');
    }
    let cameras: Cameras | null = null;

    try {
      await waitForQuiet(ctx.quietWaitS);
      let urls = runIds.map(() => ctx.video);
      if (spec.mode === 'rtsp') {
        if (!ctx.cameras) throw new Error('rtsp points need cameras');
        cameras = await startCameras(
          ctx.cameras.server,
          ctx.cameras.file,
          spec.streams,
          runIds[0] ?? 'cam',
        );
        urls = cameras.urls;
      }
      if (stack.rules && stack.render) {
        // As the scheduler does: the stages downstream of ingest first.
        for (const stage of ['rules', 'render'] as const) {
          const ok = await Promise.all(
            runIds.map((id, i) => startRun(stack, urls[i] ?? '', id, spec, stage)),
          );
          ok.forEach((a, i) => {
            if (!a.accepted)
              throw new Error(`${stage} refused ${runIds[i]}: ${a.error?.message ?? '?'}`);
          });
        }
      }
      const answers = await Promise.all(
        runIds.map((id, i) => startRun(stack, urls[i] ?? '', id, spec, 'ingest')),
      );
      answers.forEach((a, i) => {
        if (!a.accepted) throw new Error(`run ${runIds[i]} refused: ${a.error?.message ?? '?'}`);
      });
      await this.untilEachRun(3, 120_000);
      await sleep(ctx.warmupS * 1000);

      const metricsUrl = `http://127.0.0.1:${stack.ingest.opsPort}/metrics`;
      const renderUrl = stack.render ? `http://127.0.0.1:${stack.render.opsPort}/metrics` : null;
      const m0 = await scrape(metricsUrl);
      const r0 = renderUrl ? await scrape(renderUrl) : [];
      const trees0 = sampleTrees(roots);
      const bench0 = selfCpuSeconds();
      const meter = startLoadMeter();
      const t0 = performance.now();
      for (const s of this.runs.values()) s.window = 0;
      const w: WindowData = {
        latency: [],
        receive: [],
        timings: { queue: 0, read: 0, preprocess: 0, inference: 0, postprocess: 0 },
        timed: 0,
      };
      this.window = w;

      const rss = { inferenceMax: 0, ingestMax: 0 };
      const sampler = setInterval(() => {
        const t = sampleTrees([infPid, ingPid]);
        rss.inferenceMax = Math.max(rss.inferenceMax, t.get(infPid)?.root.rssBytes ?? 0);
        rss.ingestMax = Math.max(rss.ingestMax, t.get(ingPid)?.root.rssBytes ?? 0);
      }, 1000);
      const soakSamples = spec.soak
        ? await this.soakWindow(spec.soak, t0, renderUrl, r0, roots, runIds)
        : undefined;
      if (!spec.soak) await sleep(ctx.windowS * 1000);
      clearInterval(sampler);

      this.window = undefined;
      const t1 = performance.now();
      const bench1 = selfCpuSeconds();
      const trees1 = sampleTrees(roots);
      const m1 = await scrape(metricsUrl);
      const r1 = renderUrl ? await scrape(renderUrl) : [];
      const windowS = (t1 - t0) / 1000;

      const cpu = (pid: number | undefined): { own: number; children: number } => {
        if (pid === undefined) return { own: 0, children: 0 };
        const a = treeCpu(trees0.get(pid));
        const b = treeCpu(trees1.get(pid));
        return { own: b.own - a.own, children: b.children - a.children };
      };
      const inf = cpu(infPid);
      const ing = cpu(ingPid);
      const nats = cpu(natsPid);
      const rules = cpu(pids['rules']);
      const render = cpu(pids['render']);
      const rtsp = cpu(pids['rtsp']);
      const cpuS: CpuSeconds = {
        inference: inf.own + inf.children,
        ingest: ing.own,
        ffmpeg: ing.children,
        nats: nats.own + nats.children,
        rules: rules.own + rules.children,
        render: render.own,
        encode: render.children,
        rtsp: rtsp.own + rtsp.children,
        bench: bench1 - bench0,
      };
      const stats = [...this.runs.values()];
      const frames = stats.reduce((a, s) => a + s.window, 0);
      const perStream = stats.map((s) => s.window / windowS);
      const stackCpu =
        cpuS.inference +
        cpuS.ingest +
        cpuS.ffmpeg +
        cpuS.nats +
        cpuS.rules +
        cpuS.render +
        cpuS.encode +
        cpuS.rtsp;
      const perFrame = (s: number): number => (frames > 0 ? (s * 1000) / frames : Number.NaN);
      const stackCpuMsPerFrame = perFrame(stackCpu);

      const mine = (l: Record<string, string>): boolean => runIds.includes(l['run'] ?? '');
      const delta = (name: string, where = mine): number =>
        sumMetric(m1, name, where) - sumMetric(m0, name, where);
      const dropped: Record<string, number> = {};
      for (const reason of reasons(m1)) {
        dropped[reason] = delta(
          'sie_ingest_frames_dropped_total',
          (l) => mine(l) && l['reason'] === reason,
        );
      }
      const decoded = delta('sie_ingest_frames_decoded_total');
      const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
      const ffmpegRss = ffmpegRssBytes(trees1.get(ingPid));
      let stackRss = 0;
      for (const pid of roots) {
        const tree = trees1.get(pid);
        if (!tree) continue;
        stackRss += tree.root.rssBytes;
        for (const d of tree.descendants) stackRss += d.rssBytes;
      }
      const renderDropped: Record<string, number> = {};
      for (const x of r1) {
        if (x.name !== 'sie_render_dropped_total' || !mine(x.labels)) continue;
        const reason = x.labels['reason'] ?? '?';
        renderDropped[reason] = (renderDropped[reason] ?? 0) + x.value;
      }
      for (const x of r0) {
        if (x.name !== 'sie_render_dropped_total' || !mine(x.labels)) continue;
        const reason = x.labels['reason'] ?? '?';
        renderDropped[reason] = (renderDropped[reason] ?? 0) - x.value;
      }
      const mb = (b: number): number => b / (1 << 20);
      const t = w.timings;
      const timed = Math.max(1, w.timed);
      const offered =
        spec.mode !== 'throughput' ? spec.streams * (spec.sampleFps || ctx.sourceFps) : null;

      return {
        ...spec,
        windowS,
        offeredFps: offered,
        frames,
        aggregateFps: frames / windowS,
        perStreamFps: {
          min: Math.min(...perStream),
          mean: mean(perStream),
          max: Math.max(...perStream),
        },
        cpuS,
        otherCores: meter.otherCores(stackCpu + cpuS.bench),
        stackCpuMsPerFrame,
        cpuMsPerFrame: {
          inference: perFrame(cpuS.inference),
          ingest: perFrame(cpuS.ingest),
          ffmpeg: perFrame(cpuS.ffmpeg),
          nats: perFrame(cpuS.nats),
          rules: perFrame(cpuS.rules),
          render: perFrame(cpuS.render),
          encode: perFrame(cpuS.encode),
          rtsp: perFrame(cpuS.rtsp),
        },
        cpuUtilization: stackCpu / (windowS * ctx.cores),
        floorCpuMs: ctx.floors ? floorOf(ctx.floors, spec.mode) : null,
        efficiency: ctx.floors ? floorOf(ctx.floors, spec.mode) / stackCpuMsPerFrame : null,
        efficiencyVsEngineFloor: ctx.floors ? ctx.floors.engine / stackCpuMsPerFrame : null,
        attempts: 1,
        latencyMs: distribution(w.latency),
        receiveLatencyMs: distribution(w.receive),
        e2eLatencyMs: renderUrl
          ? histogramDistribution(r0, r1, 'sie_render_e2e_latency_ms', mine)
          : null,
        renderDropped,
        serviceTimingsMs: {
          queue: t.queue / timed,
          read: t.read / timed,
          preprocess: t.preprocess / timed,
          inference: t.inference / timed,
          postprocess: t.postprocess / timed,
        },
        ingest: {
          decoded,
          published: delta('sie_ingest_frames_published_total'),
          dropped,
          dropRate: decoded > 0 ? droppedTotal / decoded : 0,
        },
        rssMB: {
          inference: mb(trees1.get(infPid)?.root.rssBytes ?? 0),
          ingest: mb(trees1.get(ingPid)?.root.rssBytes ?? 0),
          ffmpegTotal: mb(ffmpegRss),
          ffmpegPerStream: mb(ffmpegRss) / spec.streams,
          nats: mb(trees1.get(natsPid)?.root.rssBytes ?? 0),
          inferenceMax: mb(rss.inferenceMax),
          ingestMax: mb(rss.ingestMax),
          stackTotal: mb(stackRss),
          perStream: mb(stackRss) / spec.streams,
        },
        errors: [...this.errors],
        ...(soakSamples ? { soakSamples } : {}),
      };
    } finally {
      this.window = undefined;
      await Promise.all(runIds.map((id) => stopRun(stack, id, 'ingest').catch(() => undefined)));
      if (stack.rules && stack.render) {
        for (const stage of ['rules', 'render'] as const) {
          await Promise.all(runIds.map((id) => stopRun(stack, id, stage).catch(() => undefined)));
        }
      }
      await cameras?.stop();
      await this.untilNoChildren(ingPid, 15_000);
      if (pids['render'] !== undefined) await this.untilNoChildren(pids['render'], 15_000);
    }
  }

  /** Holds the point for `minutes`, sampling latency, rate and memory every `everyS` seconds. */
  private async soakWindow(
    o: { minutes: number; everyS: number },
    t0: number,
    renderUrl: string | null,
    r0: MetricSample[],
    roots: number[],
    runIds: string[],
  ): Promise<SoakSample[]> {
    const samples: SoakSample[] = [];
    const names = Object.entries(this.stack.pids());
    const mine = (l: Record<string, string>): boolean => runIds.includes(l['run'] ?? '');
    let prevRender = r0;
    let prevFrames = 0;
    let prevAt = t0;
    let nextLat = 0;
    const end = t0 + o.minutes * 60_000;
    while (performance.now() < end) {
      await sleep(Math.min(o.everyS * 1000, Math.max(0, end - performance.now())));
      const now = performance.now();
      const w = this.window;
      const frames = [...this.runs.values()].reduce((a, s) => a + s.window, 0);
      const lat = w ? w.latency.slice(nextLat) : [];
      nextLat = w ? w.latency.length : 0;
      const render = renderUrl ? await scrape(renderUrl).catch(() => prevRender) : [];
      const e2e = renderUrl
        ? histogramDistribution(prevRender, render, 'sie_render_e2e_latency_ms', mine)
        : null;
      prevRender = render;
      const trees = sampleTrees(roots);
      const byProcess: Record<string, number> = {};
      let total = 0;
      for (const [name, pid] of names) {
        const tree = trees.get(pid);
        let bytes = tree?.root.rssBytes ?? 0;
        for (const d of tree?.descendants ?? []) bytes += d.rssBytes;
        byProcess[name] = bytes / (1 << 20);
        total += bytes;
      }
      const gone = names.filter(([, pid]) => !trees.has(pid)).length;
      samples.push({
        tS: (now - t0) / 1000,
        fps: ((frames - prevFrames) * 1000) / (now - prevAt),
        e2eP50Ms: e2e?.p50 ?? Number.NaN,
        e2eP99Ms: e2e?.p99 ?? Number.NaN,
        detP50Ms: percentile(lat, 50),
        detP99Ms: percentile(lat, 99),
        rssMB: total / (1 << 20),
        rssByProcessMB: byProcess,
        crashes: gone + this.errors.length,
      });
      const last = samples.at(-1);
      if (last) {
        log(
          `soak ${last.tS.toFixed(0)} s: ${last.fps.toFixed(1)} fps, e2e p50 ${last.e2eP50Ms.toFixed(0)} ms, ` +
            `p99 ${last.e2eP99Ms.toFixed(0)} ms, RSS ${last.rssMB.toFixed(0)} MB, crashes ${last.crashes}`,
        );
      }
      prevFrames = frames;
      prevAt = now;
    }
    return samples;
  }

  /** Resolves once every run of the point has published `n` detections. */
  private async untilEachRun(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = [...this.runs.values()].map((s) => s.total);
      if (counts.every((c) => c >= n)) return;
      if (this.errors.length > 0) throw new Error(`runs failed: ${this.errors.join('; ')}`);
      if (Date.now() > deadline) {
        throw new Error(
          `runs did not produce ${n} detections each within ${timeoutMs} ms: [${counts.join(', ')}]\n` +
            this.stack.ingest.output(),
        );
      }
      await sleep(100);
    }
  }

  /** Waits for the previous point's ffmpeg processes to be gone, so they cost the next nothing. */
  private async untilNoChildren(pid: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const tree = sampleTrees([pid]).get(pid);
      if (!tree || tree.descendants.length === 0) return;
      await sleep(100);
    }
    log(`warning: ingest still has child processes ${timeoutMs} ms after its runs were stopped`);
  }
}

function reasons(samples: readonly MetricSample[]): string[] {
  const out = new Set(['queue_full', 'slot_overwritten', 'inference_error']);
  for (const s of samples) {
    if (s.name === 'sie_ingest_frames_dropped_total' && s.labels['reason']) {
      out.add(s.labels['reason']);
    }
  }
  return [...out];
}

function ffmpegRssBytes(tree: ProcessTree | undefined): number {
  let sum = 0;
  for (const d of tree?.descendants ?? []) if (d.comm === 'ffmpeg') sum += d.rssBytes;
  return sum;
}

function distribution(values: number[]): Distribution {
  return {
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    mean: mean(values),
    max: values.length > 0 ? Math.max(...values) : Number.NaN,
    samples: values.length,
  };
}

/** Asks ingest to start a run, the way the scheduler does (as test/src/support/runs.ts). */
function startRun(
  stack: BenchStack,
  video: string,
  runId: string,
  spec: PointSpec,
  stage: StageName,
): Promise<StartRunResponse> {
  const rtsp = spec.mode === 'rtsp';
  const req = StartRunRequest.fromPartial({
    run: {
      runId,
      tenantId: 'bench',
      generation: 1,
      outputPath: runId,
      pipeline: {
        modelId: 'yolox',
        scoreThreshold: 0.3,
        sampleFps: spec.sampleFps,
        retry: {
          // A camera may need a moment after its publisher starts.
          startupAttempts: rtsp ? 5 : 1,
          reconnectAttempts: 0,
          intervalMs: 1000,
          backoff: 'fixed',
          maxIntervalMs: 5000,
        },
      },
      source: {
        url: video,
        loop: !rtsp,
        realtime: spec.mode === 'live',
        rtspTransport: 'tcp',
      },
    },
  });
  return stack.bus.request(
    controlSubject(stack.nodeId, stage, 'start'),
    StartRunRequest,
    req,
    StartRunResponse,
    15_000,
  );
}

function stopRun(stack: BenchStack, runId: string, stage: StageName): Promise<StopRunResponse> {
  return stack.bus.request(
    controlSubject(stack.nodeId, stage, 'stop'),
    StopRunRequest,
    { runId, generation: 1, reason: 'bench' },
    StopRunResponse,
    15_000,
  );
}

/** A point's floor: its input's decode (the file, or the cameras' H.264) + inference + encode. */
function floorOf(floors: { bare: number; camera: number }, mode: PointMode): number {
  return mode === 'rtsp' ? floors.camera : floors.bare;
}
