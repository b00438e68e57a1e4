/**
 * The floor: the work no implementation of the pipeline avoids, measured bare on the same frames
 * (decode with ffmpeg, inference with ONNX Runtime, encode with ffmpeg/x264).
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { YOLOX_TARGET, decodeOptions, loadEngine, type EnginePlan } from './engine.js';
import { decodeArgs, encodeArgs, runFfmpeg } from './ffmpeg.js';
import { BUSY_CORES, startLoadMeter, waitForQuiet } from './load.js';
import { Tensor } from 'onnxruntime-node';
import { openSession, openYolox, runOnce } from './ort.js';
import type { OrtWorkerData, OrtWorkerMessage } from './ort-worker.js';
import { selfChildrenCpuSeconds } from './proc.js';
import { log, nowMs, percentile, selfCpuSeconds, sleep } from './util.js';

export interface FloorOptions {
  video: string;
  /**
   * What the `rtsp` points' cameras send (the same frames as H.264), or null: its decode is the
   * floor of those points, since H.264 costs more to decode than the file's MPEG-4.
   */
  cameraVideo: string | null;
  modelPath: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  /** Repetitions of each ffmpeg measurement. */
  reps: number;
  /** Seconds of each raw-throughput measurement. */
  rawSeconds: number;
  /** Parallel sessions of the raw-throughput measurement (the inference service's worker count). */
  workers: number;
  /** Longest wait for a quiet machine before each measurement. */
  quietWaitS: number;
  /** Extra attempts at a measurement during which other processes were busy. */
  retries: number;
  /** The dynamic-batch model and the batch size B of the batched session.run measurement. */
  batchModelPath: string | null;
  batch: number;
}

/** session.run on [B,3,H,W] of the dynamic-batch model, 1 intra-op thread as the service. */
export interface BatchedRun extends Contention {
  batch: number;
  /** Per frame (one run ÷ B). */
  wallMs: number;
  cpuMs: number;
  /** One whole batch. */
  runP50Ms: number;
  runs: number;
}

/** One stage's cost per frame. */
export interface StageCost {
  /** Wall milliseconds per frame. */
  wallMs: number;
  /** CPU milliseconds (user + system, every thread) per frame. */
  cpuMs: number;
}

/** Average cores other processes of the machine kept busy during a measurement. */
export interface Contention {
  otherCores: number;
}

/** An ffmpeg stage: steady-state cost per frame with the process start-up cost taken out. */
export interface FfmpegCost extends StageCost, Contention {
  /** CPU and wall ms of one run that handles a single frame (start-up, probing, teardown). */
  startupCpuMs: number;
  startupWallMs: number;
  /** Per frame with start-up included: a run of `frames` frames ÷ frames. */
  inclStartupCpuMs: number;
  reps: number;
}

export interface InferenceCost extends Contention {
  letterbox: StageCost;
  sessionRun: StageCost & { p50Ms: number; p99Ms: number };
  boxDecode: StageCost;
  total: StageCost & { p50Ms: number; p99Ms: number };
  frames: number;
}

export interface RawThroughput extends Contention {
  workers: number;
  seconds: number;
  frames: number;
  fps: number;
  cpuMsPerFrame: number;
}

/** CPU per frame of one way of counting the floor, and the frame rate it allows. */
export interface FloorSum {
  cpuMs: number;
  /** cores ÷ CPU per frame: frames per second this machine could do with zero overhead. */
  maxFps: number;
}

export interface FloorResult {
  frames: number;
  width: number;
  height: number;
  decode: FfmpegCost;
  /** Decode of the cameras' H.264 copy of the same frames (null when not measured). */
  cameraDecode: FfmpegCost | null;
  inference: InferenceCost;
  encode: FfmpegCost;
  cores: number;
  floors: {
    /** decode + session.run: the bare tools, what no implementation avoids (targets use it). */
    bare: FloorSum;
    /** decode + the engine's letterbox + session.run + box decode: today's inference path. */
    engine: FloorSum;
    /** The same with the H.264 encode a rendered output adds (no stage encodes yet). */
    bareWithEncode: FloorSum;
    engineWithEncode: FloorSum;
    /**
     * What the targets use (issue 7): decode + the cheaper of session.run at batch 1 and at
     * batch B per frame + encode at the output size.
     */
    target: FloorSum;
    /** The same with the cameras' H.264 decode: the floor of the `rtsp` points. */
    camera: FloorSum | null;
  };
  batched: BatchedRun | null;
  /** One frame through the bare tools, wall ms: decode + session.run p50 + encode. */
  singleFrameMs: number;
  raw: {
    /** One thread, frames back to back: 1000 ÷ wall ms per frame. */
    sequentialRunFps: number;
    sequentialFullFps: number;
    /** `workers` sessions in parallel threads (the inference service's layout). */
    parallelRun: RawThroughput;
    parallelFull: RawThroughput;
  };
}

export async function measureFloor(o: FloorOptions, cores: number): Promise<FloorResult> {
  const frameBytes = o.width * o.height * 3;
  log(`floor: decoding the first ${o.frames} frames of ${o.video} into memory`);
  const { stdout } = await runFfmpeg(decodeArgs(o.video, o.width, o.height, o.frames), {
    collect: true,
  });
  const frames = Math.floor(stdout.length / frameBytes);
  if (frames < o.frames) throw new Error(`${o.video} gave ${frames} frames, wanted ${o.frames}`);

  log(`floor: ffmpeg decode, ${o.reps} × (${frames} frames, 1 frame)`);
  const decode = await contended(o, () =>
    ffmpegCost(o.reps, frames, (n) => runFfmpeg(decodeArgs(o.video, o.width, o.height, n))),
  );
  let cameraDecode: FfmpegCost | null = null;
  if (o.cameraVideo) {
    const camera = o.cameraVideo;
    log(`floor: ffmpeg decode of the cameras' H.264, ${o.reps} × (${frames} frames, 1 frame)`);
    cameraDecode = await contended(o, () =>
      ffmpegCost(o.reps, frames, (n) => runFfmpeg(decodeArgs(camera, o.width, o.height, n))),
    );
  }
  log(`floor: ffmpeg x264 encode, ${o.reps} × (${frames} frames, 1 frame)`);
  const encode = await contended(o, () =>
    ffmpegCost(o.reps, frames, (n) =>
      runFfmpeg(encodeArgs(o.width, o.height, o.fps), {
        input: stdout.subarray(0, n * frameBytes),
      }),
    ),
  );
  log(`floor: ONNX Runtime, 1 intra-op thread, ${frames} frames`);
  const inference = await contended(o, () => inferenceCost(o, stdout, frames));

  const shared = new SharedArrayBuffer(frames * frameBytes);
  new Uint8Array(shared).set(stdout.subarray(0, frames * frameBytes));
  log(`floor: raw ONNX Runtime throughput, ${o.workers} parallel sessions, ${o.rawSeconds} s each`);
  const parallelRun = await contended(o, () => parallelRaw(o, shared, frames, 'run'));
  const parallelFull = await contended(o, () => parallelRaw(o, shared, frames, 'full'));

  let batched: BatchedRun | null = null;
  if (o.batchModelPath && o.batch > 1) {
    log(`floor: ONNX Runtime at batch ${o.batch} (dynamic-batch model, 1 intra-op thread)`);
    const modelPath = o.batchModelPath;
    batched = await contended(o, () => batchedCost(o, modelPath, stdout, frames));
  }
  const sum = (cpuMs: number): FloorSum => ({ cpuMs, maxFps: (cores * 1000) / cpuMs });
  const bestRun = Math.min(inference.sessionRun.cpuMs, batched?.cpuMs ?? Infinity);
  const bare = decode.cpuMs + inference.sessionRun.cpuMs;
  const engine = decode.cpuMs + inference.total.cpuMs;
  return {
    frames,
    width: o.width,
    height: o.height,
    decode,
    cameraDecode,
    inference,
    encode,
    cores,
    floors: {
      bare: sum(bare),
      engine: sum(engine),
      bareWithEncode: sum(bare + encode.cpuMs),
      engineWithEncode: sum(engine + encode.cpuMs),
      target: sum(decode.cpuMs + bestRun + encode.cpuMs),
      camera: cameraDecode ? sum(cameraDecode.cpuMs + bestRun + encode.cpuMs) : null,
    },
    batched,
    singleFrameMs: decode.wallMs + inference.sessionRun.p50Ms + encode.wallMs,
    raw: {
      sequentialRunFps: 1000 / inference.sessionRun.wallMs,
      sequentialFullFps: 1000 / inference.total.wallMs,
      parallelRun,
      parallelFull,
    },
  };
}

/**
 * Waits for a quiet machine, then measures, recording how busy the rest of the machine was; a
 * measurement disturbed by other processes is taken again (`retries` times at most) and the
 * least disturbed attempt kept.
 */
async function contended<T>(o: FloorOptions, measure: () => Promise<T>): Promise<T & Contention> {
  let best: (T & Contention) | undefined;
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    await waitForQuiet(o.quietWaitS);
    const ours0 = selfCpuSeconds() + selfChildrenCpuSeconds();
    const meter = startLoadMeter();
    const result = await measure();
    const ours = selfCpuSeconds() + selfChildrenCpuSeconds() - ours0;
    const r = { ...result, otherCores: meter.otherCores(ours) };
    if (!best || r.otherCores < best.otherCores) best = r;
    if (r.otherCores <= BUSY_CORES) break;
    if (attempt < o.retries) log(`other processes used ${r.otherCores.toFixed(2)} cores: again`);
  }
  return best as T & Contention;
}

/**
 * ffmpeg runs of `frames` frames and of 1 frame, `reps` times each; the difference is the
 * steady-state cost of `frames - 1` frames (what a long-running stream pays per frame).
 */
async function ffmpegCost(
  reps: number,
  frames: number,
  run: (n: number) => Promise<{ wallMs: number; cpuS: number }>,
): Promise<Omit<FfmpegCost, 'otherCores'>> {
  let manyCpu = 0;
  let manyWall = 0;
  let oneCpu = 0;
  let oneWall = 0;
  for (let r = 0; r < reps; r++) {
    const many = await run(frames);
    const one = await run(1);
    manyCpu += many.cpuS * 1000;
    manyWall += many.wallMs;
    oneCpu += one.cpuS * 1000;
    oneWall += one.wallMs;
  }
  const marginal = frames - 1;
  return {
    wallMs: (manyWall - oneWall) / reps / marginal,
    cpuMs: (manyCpu - oneCpu) / reps / marginal,
    startupCpuMs: oneCpu / reps,
    startupWallMs: oneWall / reps,
    inclStartupCpuMs: manyCpu / reps / frames,
    reps,
  };
}

/** letterbox → session.run → box decode per frame, each phase timed on its own. */
async function inferenceCost(
  o: FloorOptions,
  pixels: Buffer,
  frames: number,
): Promise<Omit<InferenceCost, 'otherCores'>> {
  const engine = await loadEngine();
  const runner = await openYolox(engine, o.modelPath, 1);
  const frameBytes = o.width * o.height * 3;
  let plan: EnginePlan | undefined;
  const step = async (i: number, record: boolean): Promise<void> => {
    const data = pixels.subarray(i * frameBytes, (i + 1) * frameBytes);
    const c0 = selfCpuSeconds();
    const t0 = performance.now();
    plan = engine.letterbox(
      { data, width: o.width, height: o.height, order: 'bgr' },
      YOLOX_TARGET,
      runner.input,
      plan,
    );
    const c1 = selfCpuSeconds();
    const t1 = performance.now();
    const out = await runOnce(runner);
    const c2 = selfCpuSeconds();
    const t2 = performance.now();
    runner.decoder.decode(out.data as Float32Array, decodeOptions(plan, o.width, o.height));
    out.dispose();
    const c3 = selfCpuSeconds();
    const t3 = performance.now();
    if (!record) return;
    acc.lbWall += t1 - t0;
    acc.lbCpu += (c1 - c0) * 1000;
    acc.runWall.push(t2 - t1);
    acc.runCpu += (c2 - c1) * 1000;
    acc.decWall += t3 - t2;
    acc.decCpu += (c3 - c2) * 1000;
    acc.totalWall.push(t3 - t0);
  };
  const acc = {
    lbWall: 0,
    lbCpu: 0,
    runWall: [] as number[],
    runCpu: 0,
    decWall: 0,
    decCpu: 0,
    totalWall: [] as number[],
  };
  for (let i = 0; i < Math.min(5, frames); i++) await step(i, false);
  await sleep(10);
  for (let i = 0; i < frames; i++) await step(i, true);
  await runner.session.release();
  const per = (x: number): number => x / frames;
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    letterbox: { wallMs: per(acc.lbWall), cpuMs: per(acc.lbCpu) },
    sessionRun: {
      wallMs: per(sum(acc.runWall)),
      cpuMs: per(acc.runCpu),
      p50Ms: percentile(acc.runWall, 50),
      p99Ms: percentile(acc.runWall, 99),
    },
    boxDecode: { wallMs: per(acc.decWall), cpuMs: per(acc.decCpu) },
    total: {
      wallMs: per(sum(acc.totalWall)),
      cpuMs: per(acc.lbCpu + acc.runCpu + acc.decCpu),
      p50Ms: percentile(acc.totalWall, 50),
      p99Ms: percentile(acc.totalWall, 99),
    },
    frames,
  };
}

async function parallelRaw(
  o: FloorOptions,
  frames: SharedArrayBuffer,
  frameCount: number,
  mode: 'run' | 'full',
): Promise<Omit<RawThroughput, 'otherCores'>> {
  const data: OrtWorkerData = {
    modelPath: o.modelPath,
    frames,
    frameCount,
    width: o.width,
    height: o.height,
    mode,
    intraOpThreads: 1,
  };
  const workers = Array.from(
    { length: o.workers },
    () => new Worker(new URL('./ort-worker.js', import.meta.url), { workerData: data }),
  );
  try {
    const next = (w: Worker): Promise<OrtWorkerMessage> =>
      new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        w.once('error', onError);
        w.once('message', (m: OrtWorkerMessage) => {
          w.off('error', onError);
          resolve(m);
        });
      });
    await Promise.all(workers.map(next));
    const cpu0 = selfCpuSeconds();
    const t0 = performance.now();
    const done = workers.map(next);
    const until = nowMs() + o.rawSeconds * 1000;
    for (const w of workers) w.postMessage({ until });
    const results = await Promise.all(done);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = selfCpuSeconds() - cpu0;
    const n = results.reduce((a, m) => a + (m.kind === 'done' ? m.frames : 0), 0);
    return {
      workers: o.workers,
      seconds,
      frames: n,
      fps: n / seconds,
      cpuMsPerFrame: (cpu * 1000) / n,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Frames letterboxed once, then session.run over batches of B of them, back to back. */
async function batchedCost(
  o: FloorOptions,
  modelPath: string,
  pixels: Buffer,
  frames: number,
): Promise<Omit<BatchedRun, 'otherCores'>> {
  const engine = await loadEngine();
  const session = await openSession(modelPath, 1);
  const inputName = session.inputNames[0] ?? 'images';
  const size = 3 * YOLOX_TARGET.width * YOLOX_TARGET.height;
  const input = new Float32Array(o.batch * size);
  const frameBytes = o.width * o.height * 3;
  let plan: EnginePlan | undefined;
  for (let b = 0; b < o.batch; b++) {
    const i = b % frames;
    plan = engine.letterbox(
      {
        data: pixels.subarray(i * frameBytes, (i + 1) * frameBytes),
        width: o.width,
        height: o.height,
        order: 'bgr',
      },
      YOLOX_TARGET,
      input.subarray(b * size, (b + 1) * size),
      plan,
    );
  }
  const tensor = new Tensor('float32', input, [
    o.batch,
    3,
    YOLOX_TARGET.height,
    YOLOX_TARGET.width,
  ]);
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const out = await session.run({ [inputName]: tensor });
    for (const v of Object.values(out)) v.dispose();
    return performance.now() - t0;
  };
  for (let i = 0; i < 2; i++) await once();
  const runs = Math.max(3, Math.ceil(frames / o.batch));
  const walls: number[] = [];
  const c0 = selfCpuSeconds();
  for (let i = 0; i < runs; i++) walls.push(await once());
  const cpu = (selfCpuSeconds() - c0) * 1000;
  await session.release();
  const wall = walls.reduce((a, b) => a + b, 0);
  return {
    batch: o.batch,
    wallMs: wall / (runs * o.batch),
    cpuMs: cpu / (runs * o.batch),
    runP50Ms: percentile(walls, 50),
    runs,
  };
}
