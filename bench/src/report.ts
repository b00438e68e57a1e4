import type { FfmpegCost, FloorResult } from './floor.js';
import { FRAME_STORE_HEADERS, frameStoreRows, type FrameStoreBench } from './framestore.js';
import type { MachineInfo } from './machine.js';
import type { PointResult } from './pipeline.js';
import { fmt, pct, table } from './table.js';
import type { TargetCheck } from './targets.js';

export function machineText(m: MachineInfo): string {
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}`,
    `software: Node ${m.node}, ${m.ffmpeg}, onnxruntime-node ${m.onnxruntime}, ${m.natsServer}`,
    `commit: ${m.commit}${m.uncommitted.length > 0 ? ` (+ ${m.uncommitted.length} uncommitted paths)` : ''}`,
  ].join('\n');
}

export function floorText(f: FloorResult): string {
  const i = f.inference;
  const ms = (v: number): string => fmt(v, 2);
  const others = (v: number): string => fmt(v, 2);
  /** An ffmpeg stage's row: per-frame wall and CPU, its start-up, how busy the machine was. */
  const ffmpegRow = (label: string, c: FfmpegCost): string[] => [
    label,
    ms(c.wallMs),
    ms(c.cpuMs),
    fmt(c.startupCpuMs, 0),
    others(c.otherCores),
  ];
  const rows = [
    ffmpegRow('decode (ffmpeg → bgr24)', f.decode),
    ...(f.cameraDecode ? [ffmpegRow("decode, cameras' H.264", f.cameraDecode)] : []),
    [
      'letterbox (engine, JS)',
      ms(i.letterbox.wallMs),
      ms(i.letterbox.cpuMs),
      '',
      others(i.otherCores),
    ],
    ['session.run (ORT, 1 thread)', ms(i.sessionRun.wallMs), ms(i.sessionRun.cpuMs), '', ''],
    ['box decode + NMS (engine)', ms(i.boxDecode.wallMs), ms(i.boxDecode.cpuMs), '', ''],
    ['inference total', ms(i.total.wallMs), ms(i.total.cpuMs), '', ''],
    ffmpegRow('encode (x264 ultrafast)', f.encode),
    ...(f.batched
      ? [
          [
            `session.run, batch ${f.batched.batch} (per frame)`,
            ms(f.batched.wallMs),
            ms(f.batched.cpuMs),
            '',
            others(f.batched.otherCores),
          ],
        ]
      : []),
    ['floor, bare: decode + session.run', '', ms(f.floors.bare.cpuMs), '', ''],
    ['floor, engine: decode + inference total', '', ms(f.floors.engine.cpuMs), '', ''],
    ['bare floor + encode', '', ms(f.floors.bareWithEncode.cpuMs), '', ''],
    ['engine floor + encode', '', ms(f.floors.engineWithEncode.cpuMs), '', ''],
    ...(f.floors.camera
      ? [
          [
            'FLOOR, rtsp points: camera decode + best run + encode',
            '',
            ms(f.floors.camera.cpuMs),
            '',
            '',
          ],
        ]
      : []),
    [
      'FLOOR (targets): decode + best session.run + encode',
      fmt(f.singleFrameMs, 1),
      ms(f.floors.target.cpuMs),
      '',
      '',
    ],
  ];
  const raw = f.raw;
  return [
    `Floor: the first ${f.frames} frames of vtest.avi at ${f.width}×${f.height}, bare tools, same frames`,
    table(['stage', 'wall ms/frame', 'CPU ms/frame', 'start-up CPU ms', 'others (cores)'], rows),
    '',
    `session.run p50 ${ms(i.sessionRun.p50Ms)} ms, p99 ${ms(i.sessionRun.p99Ms)} ms; ` +
      `letterbox+run+decode p50 ${ms(i.total.p50Ms)} ms, p99 ${ms(i.total.p99Ms)} ms`,
    `max fps on ${f.cores} cores (cores ÷ floor CPU per frame): bare ${fmt(f.floors.bare.maxFps)}, ` +
      `engine ${fmt(f.floors.engine.maxFps)}; with encode: bare ${fmt(f.floors.bareWithEncode.maxFps)}, ` +
      `engine ${fmt(f.floors.engineWithEncode.maxFps)}`,
    '',
    table(
      ['raw ONNX Runtime throughput', 'fps', 'CPU ms/frame', 'others (cores)'],
      [
        [
          '1 session, session.run back to back',
          fmt(raw.sequentialRunFps),
          ms(i.sessionRun.cpuMs),
          others(i.otherCores),
        ],
        [
          '1 session, letterbox+run+decode',
          fmt(raw.sequentialFullFps),
          ms(i.total.cpuMs),
          others(i.otherCores),
        ],
        [
          `${raw.parallelRun.workers} sessions in parallel, session.run`,
          fmt(raw.parallelRun.fps),
          ms(raw.parallelRun.cpuMsPerFrame),
          others(raw.parallelRun.otherCores),
        ],
        [
          `${raw.parallelFull.workers} sessions in parallel, letterbox+run+decode`,
          fmt(raw.parallelFull.fps),
          ms(raw.parallelFull.cpuMsPerFrame),
          others(raw.parallelFull.otherCores),
        ],
      ],
    ),
  ].join('\n');
}

export function throughputText(points: PointResult[]): string {
  const rows = points.map((p) => [
    String(p.streams),
    fmt(p.aggregateFps),
    `${fmt(p.perStreamFps.min)}/${fmt(p.perStreamFps.mean)}`,
    fmt(p.stackCpuMsPerFrame, 1),
    `${fmt(p.cpuMsPerFrame.inference, 1)}/${fmt(p.cpuMsPerFrame.ingest, 1)}/${fmt(p.cpuMsPerFrame.ffmpeg, 1)}`,
    fmt(p.cpuMsPerFrame.nats, 2),
    pct(p.cpuUtilization),
    `${fmt(p.efficiency, 2)}/${fmt(p.efficiencyVsEngineFloor, 2)}`,
    `${fmt(p.latencyMs.p50, 0)}/${fmt(p.latencyMs.p99, 0)}`,
    `${fmt(p.serviceTimingsMs.preprocess, 1)}/${fmt(p.serviceTimingsMs.inference, 1)}`,
    fmt(p.otherCores, 2),
    String(p.attempts),
  ]);
  return [
    'Pipeline, throughput mode (realtime: false, backpressure, every frame processed)',
    table(
      [
        'N',
        'agg fps',
        'stream fps min/mean',
        'stack CPU ms/frame',
        'inference/ingest/ffmpeg',
        'nats',
        'CPU use',
        'efficiency bare/engine',
        'latency p50/p99 ms',
        'svc pre/infer ms',
        'others (cores)',
        'tries',
      ],
      rows,
    ),
  ].join('\n');
}

export function liveText(points: PointResult[], saturationFps: number | null): string {
  const rows = points.map((p) => {
    const drops = p.ingest.dropped;
    return [
      p.label,
      String(p.streams),
      fmt(p.offeredFps),
      saturationFps && p.offeredFps !== null ? pct(p.offeredFps / saturationFps) : 'n/a',
      fmt(p.aggregateFps),
      `${fmt(p.perStreamFps.min)}/${fmt(p.perStreamFps.mean)}`,
      `${fmt(p.latencyMs.p50, 0)}/${fmt(p.latencyMs.p99, 0)}`,
      `${fmt(p.receiveLatencyMs.p50, 0)}/${fmt(p.receiveLatencyMs.p99, 0)}`,
      `${drops['queue_full'] ?? 0}/${drops['slot_overwritten'] ?? 0}/${drops['inference_error'] ?? 0}`,
      pct(p.ingest.dropRate, 1),
      fmt(p.stackCpuMsPerFrame, 1),
      `${fmt(p.rssMB.inference, 0)}/${fmt(p.rssMB.ingest, 0)}/${fmt(p.rssMB.ffmpegPerStream, 0)}`,
      fmt(p.otherCores, 2),
      String(p.attempts),
    ];
  });
  return [
    'Pipeline, live mode (realtime: true, latest frame wins)',
    table(
      [
        'point',
        'N',
        'offered fps',
        'load',
        'agg fps',
        'stream fps min/mean',
        'det latency p50/p99 ms',
        'rx latency p50/p99 ms',
        'drops full/overwr/err',
        'drop %',
        'stack CPU ms/frame',
        'RSS MB inf/ingest/ffmpeg per stream',
        'others (cores)',
        'tries',
      ],
      rows,
    ),
  ].join('\n');
}

export function targetsText(checks: TargetCheck[]): string {
  return [
    'Targets (issue 7)',
    table(
      ['target', 'wanted', 'measured', ''],
      checks.map((c) => [
        c.name,
        c.target,
        c.measured,
        c.pass === null ? '' : c.pass ? 'PASS' : 'FAIL',
      ]),
    ),
  ].join('\n');
}

export function frameStoreText(b: FrameStoreBench): string {
  return [
    `Frame store access, median µs per frame over ${b.frames} frames, ${b.slots}-slot rings in ${b.dir}`,
    table(FRAME_STORE_HEADERS, frameStoreRows(b)),
    ...(b.mmapMissing ? [`mmap not measured: ${b.mmapMissing}`] : []),
  ].join('\n');
}
