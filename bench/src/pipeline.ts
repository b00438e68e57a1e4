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
import { startLoadMeter, waitForQuiet } from './load.js';
import { sampleTrees, treeCpu, type ProcessTree } from './proc.js';
import { scrape, sumMetric, type MetricSample } from './prometheus.js';
import type { BenchStack } from './stack.js';
import { log, mean, nowMs, percentile, selfCpuSeconds, sleep } from './util.js';

export type PointMode = 'throughput' | 'live';

export interface PointSpec {
  /** Short id, also the prefix of the run ids. */
  label: string;
  mode: PointMode;
  streams: number;
  /** Frames per second each run keeps (pipeline.sampleFps); 0 keeps the source rate. */
  sampleFps: number;
}

export interface PointContext {
  video: string;
  /** The source's frame rate (what a live run offers when sampleFps is 0). */
  sourceFps: number;
  windowS: number;
  warmupS: number;
  cores: number;
  /** Floor CPU ms per frame (decode + session.run; decode + the engine's inference path). */
  floors: { bare: number; engine: number } | null;
  /** Longest wait for a quiet machine before each point. */
  quietWaitS: number;
}

export interface CpuSeconds {
  inference: number;
  ingest: number;
  /** ffmpeg (and ffprobe) children of ingest. */
  ffmpeg: number;
  nats: number;
  /** This bench process (subscriber, /proc sampling): not part of the stack. */
  bench: number;
}

export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  samples: number;
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
  /** CPU ms per processed frame of inference + ingest + ffmpeg. */
  stackCpuMsPerFrame: number;
  cpuMsPerFrame: { inference: number; ingest: number; ffmpeg: number; nats: number };
  /** Stack CPU ÷ (window × cores). */
  cpuUtilization: number;
  /** Bare floor (decode + session.run) CPU per frame ÷ stack CPU per frame. */
  efficiency: number | null;
  /** Engine floor (decode + letterbox + session.run + box decode) ÷ stack CPU per frame. */
  efficiencyVsEngineFloor: number | null;
  /** Measurements of this point taken (others disturbed the earlier ones); this is the least disturbed. */
  attempts: number;
  /** FrameDetections.latencyMs: frame decoded (captureTimeMs) → detections ready in ingest. */
  latencyMs: Distribution;
  /** captureTimeMs → the bench received the detections from NATS. */
  receiveLatencyMs: Distribution;
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
  };
  errors: string[];
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
    const roots = [stack.inference.child.pid, stack.ingest.child.pid, stack.nats.process.pid];
    if (roots.some((p) => p === undefined)) throw new Error('a stack process has no pid');
    const [infPid, ingPid, natsPid] = roots as [number, number, number];

    try {
      await waitForQuiet(ctx.quietWaitS);
      const answers = await Promise.all(runIds.map((id) => startRun(stack, ctx.video, id, spec)));
      answers.forEach((a, i) => {
        if (!a.accepted) throw new Error(`run ${runIds[i]} refused: ${a.error?.message ?? '?'}`);
      });
      await this.untilEachRun(3, 120_000);
      await sleep(ctx.warmupS * 1000);

      const metricsUrl = `http://127.0.0.1:${stack.ingest.opsPort}/metrics`;
      const m0 = await scrape(metricsUrl);
      const trees0 = sampleTrees(roots as number[]);
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
      await sleep(ctx.windowS * 1000);
      clearInterval(sampler);

      this.window = undefined;
      const t1 = performance.now();
      const bench1 = selfCpuSeconds();
      const trees1 = sampleTrees(roots as number[]);
      const m1 = await scrape(metricsUrl);
      const windowS = (t1 - t0) / 1000;

      const cpu = (pid: number): { own: number; children: number } => {
        const a = treeCpu(trees0.get(pid));
        const b = treeCpu(trees1.get(pid));
        return { own: b.own - a.own, children: b.children - a.children };
      };
      const inf = cpu(infPid);
      const ing = cpu(ingPid);
      const nats = cpu(natsPid);
      const cpuS: CpuSeconds = {
        inference: inf.own + inf.children,
        ingest: ing.own,
        ffmpeg: ing.children,
        nats: nats.own + nats.children,
        bench: bench1 - bench0,
      };
      const stats = [...this.runs.values()];
      const frames = stats.reduce((a, s) => a + s.window, 0);
      const perStream = stats.map((s) => s.window / windowS);
      const stackCpu = cpuS.inference + cpuS.ingest + cpuS.ffmpeg;
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
      const mb = (b: number): number => b / (1 << 20);
      const t = w.timings;
      const timed = Math.max(1, w.timed);
      const offered =
        spec.mode === 'live' ? spec.streams * (spec.sampleFps || ctx.sourceFps) : null;

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
        otherCores: meter.otherCores(stackCpu + cpuS.nats + cpuS.bench),
        stackCpuMsPerFrame,
        cpuMsPerFrame: {
          inference: perFrame(cpuS.inference),
          ingest: perFrame(cpuS.ingest),
          ffmpeg: perFrame(cpuS.ffmpeg),
          nats: perFrame(cpuS.nats),
        },
        cpuUtilization: stackCpu / (windowS * ctx.cores),
        efficiency: ctx.floors ? ctx.floors.bare / stackCpuMsPerFrame : null,
        efficiencyVsEngineFloor: ctx.floors ? ctx.floors.engine / stackCpuMsPerFrame : null,
        attempts: 1,
        latencyMs: distribution(w.latency),
        receiveLatencyMs: distribution(w.receive),
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
        },
        errors: [...this.errors],
      };
    } finally {
      this.window = undefined;
      await Promise.all(runIds.map((id) => stopRun(stack, id).catch(() => undefined)));
      await this.untilNoChildren(ingPid, 15_000);
    }
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
): Promise<StartRunResponse> {
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
          startupAttempts: 1,
          reconnectAttempts: 0,
          intervalMs: 1000,
          backoff: 'fixed',
          maxIntervalMs: 5000,
        },
      },
      source: {
        url: video,
        loop: true,
        realtime: spec.mode === 'live',
        rtspTransport: 'tcp',
      },
    },
  });
  return stack.bus.request(
    controlSubject(stack.nodeId, 'ingest', 'start'),
    StartRunRequest,
    req,
    StartRunResponse,
    15_000,
  );
}

function stopRun(stack: BenchStack, runId: string): Promise<StopRunResponse> {
  return stack.bus.request(
    controlSubject(stack.nodeId, 'ingest', 'stop'),
    StopRunRequest,
    { runId, generation: 1, reason: 'bench' },
    StopRunResponse,
    15_000,
  );
}
