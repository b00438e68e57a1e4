#!/usr/bin/env node
/**
 * sie's benchmark suite (not a test): the machine's floor for this workload, then the real
 * pipeline at several loads, in one run. Prints plain-text tables on stdout and writes every
 * number to bench/results/<timestamp>.json.
 *
 *   pnpm bench [--quick | --full] [--window S] [--streams 1,2,4] [--frames N] [--quiet-wait S]
 *               [--retries N] [--only floor|pipeline]
 *
 * docs/benchmarks.md says what each number means.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findRepoRoot, resolveSharedAsset } from '@sie/infra';
import { measureFloor, type FloorResult } from './floor.js';
import { machineInfo } from './machine.js';
import { PipelineBench, type PointResult, type PointSpec } from './pipeline.js';
import { BUSY_CORES } from './load.js';
import { floorText, liveText, machineText, targetsText, throughputText } from './report.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { checkTargets } from './targets.js';
import { log } from './util.js';

interface Profile {
  name: 'quick' | 'default' | 'full';
  frames: number;
  reps: number;
  rawSeconds: number;
  windowS: number;
  warmupS: number;
  streams: number[];
  /** Longest wait for a quiet machine before each measurement. */
  quietWaitS: number;
  /** Extra attempts at a measurement that other processes disturbed. */
  retries: number;
}

const PROFILES: Record<Profile['name'], Profile> = {
  quick: {
    name: 'quick',
    frames: 100,
    reps: 2,
    rawSeconds: 3,
    windowS: 8,
    warmupS: 1,
    streams: [1, 2],
    quietWaitS: 0,
    retries: 0,
  },
  default: {
    name: 'default',
    frames: 200,
    reps: 3,
    rawSeconds: 8,
    windowS: 20,
    warmupS: 3,
    streams: [1, 2, 4],
    quietWaitS: 30,
    retries: 2,
  },
  full: {
    name: 'full',
    frames: 200,
    reps: 5,
    rawSeconds: 10,
    windowS: 20,
    warmupS: 3,
    streams: [1, 2, 4, 8],
    quietWaitS: 30,
    retries: 2,
  },
};

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    window: { type: 'string' },
    streams: { type: 'string' },
    frames: { type: 'string' },
    only: { type: 'string' },
    'quiet-wait': { type: 'string' },
    retries: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'pnpm bench [--quick | --full] [--window S] [--streams 1,2,4] [--frames N] [--quiet-wait S] [--retries N] [--only floor|pipeline]\n',
  );
  process.exit(0);
}
const base = PROFILES[args.full ? 'full' : args.quick ? 'quick' : 'default'];
const profile: Profile = {
  ...base,
  ...(args.window ? { windowS: positive(args.window, '--window') } : {}),
  ...(args.frames ? { frames: positive(args.frames, '--frames') } : {}),
  ...(args['quiet-wait'] !== undefined ? { quietWaitS: Number(args['quiet-wait']) || 0 } : {}),
  ...(args.retries !== undefined ? { retries: Number(args.retries) || 0 } : {}),
  ...(args.streams
    ? { streams: args.streams.split(',').map((s) => positive(s, '--streams')) }
    : {}),
};
const only = args.only;
if (only !== undefined && only !== 'floor' && only !== 'pipeline') {
  throw new Error('--only takes floor or pipeline');
}

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${what} wants a positive integer, got ${text}`);
  return n;
}

function probe(video: string): { width: number; height: number; fps: number } {
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,r_frame_rate',
      '-of',
      'json',
      video,
    ],
    { encoding: 'utf8' },
  );
  const s = (
    JSON.parse(out) as { streams: { width: number; height: number; r_frame_rate: string }[] }
  ).streams[0];
  if (!s) throw new Error(`${video} has no video stream`);
  const [num, den] = s.r_frame_rate.split('/').map(Number);
  return { width: s.width, height: s.height, fps: (num ?? 0) / (den || 1) };
}

const root = findRepoRoot();
const startedAt = new Date();
const video = resolveSharedAsset('media/vtest.avi');
const modelPath = resolveSharedAsset('models/yolox_nano_coco.onnx');
const source = probe(video);
const machine = machineInfo(root);
const out = (text: string): void => void process.stdout.write(`${text}\n\n`);
out(`sie benchmark (${profile.name}), ${startedAt.toISOString()}\n${machineText(machine)}`);

let floor: FloorResult | null = null;
if (only !== 'pipeline') {
  floor = await measureFloor(
    {
      video,
      modelPath,
      width: source.width,
      height: source.height,
      fps: source.fps,
      frames: profile.frames,
      reps: profile.reps,
      rawSeconds: profile.rawSeconds,
      workers: machine.cores,
      quietWaitS: profile.quietWaitS,
      retries: profile.retries,
    },
    machine.cores,
  );
  out(floorText(floor));
}

const points: PointResult[] = [];
let stack: BenchStack | undefined;
const onSignal = (): void => {
  log('interrupted: stopping the stack');
  void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

let saturationFps: number | null = null;
if (only !== 'floor') {
  log(`pipeline: starting nats-server, inference (${machine.cores} workers × 1 thread) and ingest`);
  stack = await startBenchStack(modelPath, machine.cores);
  try {
    const bench = new PipelineBench(stack, {
      video,
      sourceFps: source.fps,
      windowS: profile.windowS,
      warmupS: profile.warmupS,
      cores: machine.cores,
      floors: floor ? { bare: floor.floors.bare.cpuMs, engine: floor.floors.engine.cpuMs } : null,
      quietWaitS: profile.quietWaitS,
    });
    const measure = async (spec: PointSpec): Promise<PointResult> => {
      log(
        `pipeline: ${spec.label}: ${spec.streams} × ${spec.mode}${spec.sampleFps ? ` at ${spec.sampleFps} fps` : ''}, ${profile.windowS} s`,
      );
      // A point disturbed by other processes is measured again; the least disturbed one is kept.
      let best: PointResult | undefined;
      let tries = 0;
      while (tries <= profile.retries) {
        tries++;
        const r = await bench.measure(spec);
        if (!best || r.otherCores < best.otherCores) best = r;
        if (r.otherCores <= BUSY_CORES) break;
        if (tries <= profile.retries) {
          log(`${spec.label}: other processes used ${r.otherCores.toFixed(2)} cores: again`);
        }
      }
      const kept = { ...(best as PointResult), attempts: tries };
      points.push(kept);
      return kept;
    };
    for (const n of profile.streams) {
      await measure({ label: `thr${n}`, mode: 'throughput', streams: n, sampleFps: 0 });
    }
    const thr = points.filter((p) => p.mode === 'throughput');
    out(throughputText(thr));
    saturationFps = Math.max(...thr.map((p) => p.aggregateFps));
    for (const n of profile.streams) {
      await measure({ label: `live${n}`, mode: 'live', streams: n, sampleFps: 0 });
    }
    // 70 % of the measured saturation throughput, offered as paced streams of at most the
    // source's rate each: the load the latency targets are defined at.
    const want = 0.7 * saturationFps;
    const streams = Math.max(1, Math.ceil(want / source.fps));
    const rate = Math.round((want / streams) * 100) / 100;
    await measure({ label: `live70-${streams}`, mode: 'live', streams, sampleFps: rate });
    out(
      liveText(
        points.filter((p) => p.mode === 'live'),
        saturationFps,
      ),
    );
  } finally {
    log('pipeline: stopping the stack');
    await stack.stop();
    stack = undefined;
  }
}

const targets = checkTargets(floor, points);
if (targets.length > 0) out(targetsText(targets));
const errors = points.flatMap((p) => p.errors.map((e) => `${p.label}: ${e}`));
if (errors.length > 0) out(`run errors:\n${errors.join('\n')}`);

const finishedAt = new Date();
const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
const result = {
  schema: 'sie-bench/1',
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  profile,
  machine,
  assets: { video, modelPath, source },
  floor,
  pipeline:
    only === 'floor'
      ? null
      : {
          inferenceWorkers: machine.cores,
          intraOpThreads: 1,
          saturationFps,
          points,
        },
  targets,
};
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
out(`results: ${file} (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
