/**
 * docs/benchmarks.md from one run's results: how the suite measures, the tables, the targets
 * against what was measured, and where the CPU goes when a target is missed.
 */
import type { FloorResult } from './floor.js';
import { FRAME_STORE_HEADERS, frameStoreRows, type FrameStoreBench } from './framestore.js';
import type { MachineInfo } from './machine.js';
import type { PointResult } from './pipeline.js';
import type { SoakResult } from './soak.js';
import { fmt } from './table.js';
import type { TargetCheck } from './targets.js';

export interface MarkdownInput {
  startedAt: string;
  machine: MachineInfo;
  /** A shortened or disturbed run: its numbers are marked as not representative. */
  smoke: boolean;
  floor: FloorResult | null;
  frameStore: FrameStoreBench | null;
  points: PointResult[];
  soak: SoakResult | null;
  targets: TargetCheck[];
  stack: {
    workers: number;
    intraOpThreads: number;
    maxBatch: number;
    maxQueueDelayUs: number;
    model: string;
  };
  chart: string | null;
  resultsFile: string;
}

function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const HOW = `## How it is measured

\`pnpm bench\` (not part of the tests) runs, in one go:

1. **Floor**: the work no implementation avoids, done by the bare tools on the same frames of
   \`vtest.avi\` (768×576, 10 fps): ffmpeg decode to \`bgr24\` with ingest's arguments, ONNX
   Runtime \`session.run\` with the service's session options (1 intra-op thread) at batch 1 and at
   batch B on the dynamic-batch model, and libx264 encode at the output size (render's codec
   settings). CPU = reaped-children CPU of the bench for ffmpeg (\`/proc/self/stat\` cutime+cstime,
   start-up cost taken out: (run of F frames − run of 1) ÷ (F − 1)), \`process.cpuUsage()\` around
   \`session.run\`. **Floor CPU per frame** = decode + the cheaper of batch-1 and batch-B
   \`session.run\` per frame + encode. The \`rtsp\` points decode what their cameras send, the
   same frames as H.264, which costs more to decode than the file's MPEG-4: their floor has the
   decode of that H.264 copy instead (the **floor per frame, rtsp points** row), and their
   efficiency is judged against it. **Single-frame floor time** = decode wall + \`session.run\`
   p50 + encode wall per frame.
2. **Pipeline**: the whole stack as real processes (nats-server, inference with dynamic batching,
   ingest, rules, render, sie's RTSP server for the output). \`rtsp\` points: N cameras, each a
   looped H.264 copy of \`vtest.avi\` published in real time to a separate RTSP server (\`-c:v copy\`,
   so the cameras cost almost nothing and are not counted), read by ingest over RTSP/TCP;
   render publishes each annotated run to the stack's RTSP server. \`thr\` points: the same runs on
   the file, decoded as fast as backpressure allows (saturation). Per point, after every run has
   produced detections and a warm-up: aggregate and per-stream processed fps (FrameDetections on
   NATS), capture→detections latency (FrameDetections.latencyMs), **capture→encoder latency**
   (render's \`sie_render_e2e_latency_ms\` histogram growth over the window, at its buckets'
   resolution: 5 ms to 60 ms, 10 ms to 150 ms, 25–50 ms to 300 ms),
   drops (ingest's and render's drop counters by reason), **stack CPU per frame** (growth of
   utime+stime+cutime+cstime in \`/proc/<pid>/stat\` of every stack process and its live children,
   ffmpeg decoders and encoders included, ÷ processed frames), RSS of the stack ÷ N.
   \`live70\` is the RTSP point at 70 % of the best measured throughput (streams paced with
   \`sampleFps\`), where the latency targets are judged.
3. **Soak** (\`pnpm bench:soak [--minutes 30]\`): the stack at 70 % of capacity (measured first, or
   \`--capacity-fps\`), sampled every 10 s: fps, capture→encoder p50/p99, RSS of every process,
   processes gone and runs failed.

Every number of a run, with the machine and the commit, is in \`bench/results/<timestamp>.json\`;
the chart is written next to it (and to \`docs/bench-chart.svg\` with \`--write-docs\`; the soak's
report goes to \`docs/bench-soak.md\`).
Options: \`--seconds S\` (window per point), \`--n 1,2,4\` (stream counts), \`--quick\`,
\`--only floor|pipeline\`, \`--no-thr\`, \`--max-batch B\`, \`--queue-delay-us U\`,
\`--soak --minutes M [--capacity-fps F]\`, \`--write-docs\` (regenerates this file; only from a
run on a quiet machine).
`;

export function benchmarksMarkdown(r: MarkdownInput): string {
  const out: string[] = ['# Benchmarks', ''];
  if (r.smoke) {
    out.push(
      '> **Smoke run.** These numbers come from a shortened run and/or a machine shared with other',
      '> work: they show that the suite works, not what sie achieves. Regenerate with a full run',
      '> on a quiet machine (`pnpm bench --write-docs`).',
      '',
    );
  }
  const m = r.machine;
  out.push(
    `Run of ${r.startedAt} on ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel};`,
    `Node ${m.node}, ${m.ffmpeg}, onnxruntime-node ${m.onnxruntime}; commit ${m.commit}` +
      `${m.uncommitted.length > 0 ? ` (+${m.uncommitted.length} uncommitted paths)` : ''}.`,
    `Inference: model \`${r.stack.model}\`, ${r.stack.workers} workers × ${r.stack.intraOpThreads} intra-op thread,`,
    `dynamic batching maxBatch ${r.stack.maxBatch}, maxQueueDelayUs ${r.stack.maxQueueDelayUs}. Results: \`${r.resultsFile}\`.`,
    '',
  );
  if (r.chart) out.push(`![fps and latency against N; soak](${r.chart})`, '');
  out.push('## Targets against what was measured', '');
  out.push(
    mdTable(
      ['target', 'wanted', 'measured', ''],
      r.targets.map((t) => [
        t.name,
        t.target,
        t.measured,
        t.pass === null ? '' : t.pass ? 'PASS' : '**FAIL**',
      ]),
    ),
    '',
  );
  const f = r.floor;
  if (f) {
    out.push('## Floor', '');
    const rows: string[][] = [
      ['decode (ffmpeg → bgr24)', fmt(f.decode.wallMs, 2), fmt(f.decode.cpuMs, 2)],
      [
        'session.run, batch 1',
        fmt(f.inference.sessionRun.wallMs, 2),
        fmt(f.inference.sessionRun.cpuMs, 2),
      ],
    ];
    if (f.batched) {
      rows.push([
        `session.run, batch ${f.batched.batch} (per frame)`,
        fmt(f.batched.wallMs, 2),
        fmt(f.batched.cpuMs, 2),
      ]);
    }
    rows.push(
      [
        'letterbox (engine, JS; not in the floor, ffmpeg does it)',
        fmt(f.inference.letterbox.wallMs, 2),
        fmt(f.inference.letterbox.cpuMs, 2),
      ],
      ['encode (x264, output size)', fmt(f.encode.wallMs, 2), fmt(f.encode.cpuMs, 2)],
      ['**floor per frame**', '', fmt(f.floors.target.cpuMs, 2)],
      ...(f.cameraDecode && f.floors.camera
        ? [
            [
              "decode of the cameras' H.264 (rtsp points)",
              fmt(f.cameraDecode.wallMs, 2),
              fmt(f.cameraDecode.cpuMs, 2),
            ],
            ['**floor per frame, rtsp points**', '', fmt(f.floors.camera.cpuMs, 2)],
          ]
        : []),
      ['single-frame floor time', fmt(f.singleFrameMs, 1), ''],
    );
    out.push(mdTable(['stage', 'wall ms/frame', 'CPU ms/frame'], rows), '');
    out.push(`Max fps on ${f.cores} cores at the floor: ${fmt(f.floors.target.maxFps)}.`, '');
  }
  if (r.frameStore) out.push(...frameStoreSection(r.frameStore));
  if (r.points.length > 0) {
    out.push('## Pipeline', '');
    out.push(
      mdTable(
        [
          'point',
          'N',
          'offered fps',
          'agg fps',
          'stream fps min/mean',
          'capture→encoder p50/p99 ms',
          'capture→detections p50/p99 ms',
          'drops ingest/render',
          'stack CPU ms/frame',
          'efficiency',
          'RSS MB/stream',
        ],
        r.points.map((p) => {
          const ingestDrops = Object.values(p.ingest.dropped).reduce((a, b) => a + b, 0);
          const renderDrops = Object.values(p.renderDropped).reduce((a, b) => a + b, 0);
          return [
            p.label,
            String(p.streams),
            fmt(p.offeredFps),
            fmt(p.aggregateFps),
            `${fmt(p.perStreamFps.min)}/${fmt(p.perStreamFps.mean)}`,
            p.e2eLatencyMs ? `${fmt(p.e2eLatencyMs.p50, 0)}/${fmt(p.e2eLatencyMs.p99, 0)}` : 'n/a',
            `${fmt(p.latencyMs.p50, 0)}/${fmt(p.latencyMs.p99, 0)}`,
            `${ingestDrops}/${renderDrops}`,
            fmt(p.stackCpuMsPerFrame, 1),
            fmt(p.efficiency, 2),
            fmt(p.rssMB.perStream, 0),
          ];
        }),
      ),
      '',
      '### Where the CPU per frame goes (ms)',
      '',
      mdTable(
        [
          'point',
          'inference',
          'ingest',
          'decode ffmpeg',
          'rules',
          'render',
          'encode ffmpeg',
          'rtsp',
          'nats',
          'svc preprocess/infer ms',
        ],
        r.points.map((p) => {
          const c = p.cpuMsPerFrame;
          return [
            p.label,
            fmt(c.inference, 1),
            fmt(c.ingest, 1),
            fmt(c.ffmpeg, 1),
            fmt(c.rules, 1),
            fmt(c.render, 1),
            fmt(c.encode, 1),
            fmt(c.rtsp, 1),
            fmt(c.nats, 1),
            `${fmt(p.serviceTimingsMs.preprocess, 1)}/${fmt(p.serviceTimingsMs.inference, 1)}`,
          ];
        }),
      ),
      '',
    );
  }
  if (r.soak) {
    const s = r.soak;
    out.push(
      '## Soak',
      '',
      `${s.minutes} min, ${s.streams} RTSP streams at ${fmt(s.rateFps)} fps each = ${fmt(s.offeredFps)} fps offered ` +
        `(70 % of ${fmt(s.capacityFps)} fps). Latency first third → last third (median of the p50s): ` +
        `${fmt(s.summary.firstThirdP50Ms, 0)} → ${fmt(s.summary.lastThirdP50Ms, 0)} ms; RSS growth ` +
        `${fmt(s.summary.rssGrowth * 100, 1)} %; crashes ${s.summary.crashes}.`,
      '',
    );
    const every = Math.max(1, Math.ceil(s.samples.length / 20));
    out.push(
      mdTable(
        [
          't s',
          'fps',
          'capture→encoder p50/p99 ms',
          'capture→detections p50/p99 ms',
          'stack RSS MB',
        ],
        s.samples
          .filter((_, i) => i % every === 0 || i === s.samples.length - 1)
          .map((x) => [
            fmt(x.tS, 0),
            fmt(x.fps),
            `${fmt(x.e2eP50Ms, 0)}/${fmt(x.e2eP99Ms, 0)}`,
            `${fmt(x.detP50Ms, 0)}/${fmt(x.detP99Ms, 0)}`,
            fmt(x.rssMB, 0),
          ]),
      ),
      '',
    );
  }
  const failed = r.targets.filter((t) => t.pass === false);
  if (failed.length > 0) {
    out.push('## Where it falls short, and why', '');
    for (const t of failed) out.push(`- **${t.name}**: ${t.measured} (wanted ${t.target}).`);
    const worst = r.points.filter((p) => p.efficiency !== null).at(-1);
    if (worst && f) {
      const c = worst.cpuMsPerFrame;
      const floorParts =
        f.decode.cpuMs +
        Math.min(f.inference.sessionRun.cpuMs, f.batched?.cpuMs ?? Infinity) +
        f.encode.cpuMs;
      out.push(
        '',
        `At ${worst.label} the stack spends ${fmt(worst.stackCpuMsPerFrame, 1)} CPU ms per frame against the ` +
          `floor's ${fmt(floorParts, 1)}: inference ${fmt(c.inference, 1)} (of which session.run ≈ ` +
          `${fmt(Math.min(f.inference.sessionRun.cpuMs, f.batched?.cpuMs ?? Infinity), 1)}; its preprocess, ` +
          `the layout conversion of ffmpeg's letterboxed copy, ${fmt(worst.serviceTimingsMs.preprocess, 1)} ms ` +
          `wall, against ${fmt(f.inference.letterbox.cpuMs, 1)} for the engine's JS letterbox it replaces), ` +
          `ingest ${fmt(c.ingest, 1)} + its ffmpeg ${fmt(c.ffmpeg, 1)} ` +
          `(decode floor ${fmt(f.decode.cpuMs, 1)}, plus the model-size copy), rules ${fmt(c.rules, 1)}, ` +
          `render ${fmt(c.render, 1)} + encode ${fmt(c.encode, 1)} (encode floor ${fmt(f.encode.cpuMs, 1)}), ` +
          `RTSP ${fmt(c.rtsp, 1)}, NATS ${fmt(c.nats, 1)}. Everything above the floor per process is ` +
          'overhead: per-frame gRPC/NATS messages, the frame-store copies, and JS work in rules and ' +
          'render (drawing into the BGR frame and piping it to the encoder).',
      );
    }
    out.push('');
  }
  out.push(HOW);
  return out.join('\n');
}

function frameStoreSection(b: FrameStoreBench): string[] {
  return [
    '## Frame store access',
    '',
    `Median µs per frame, ${b.frames} frames through ${b.slots}-slot rings in \`${b.dir}\`: ` +
      'ingest writes each frame, inference and render read it. `read` is the portable ' +
      'pread/pwrite path, `mmap` the shared mapping (`frameStoreAccess`); lending in place is ' +
      'what inference does (it letterboxes from the slot and checks the seqlock after).',
    '',
    mdTable(FRAME_STORE_HEADERS, frameStoreRows(b)),
    '',
    ...(b.mmapMissing ? [`The mapped path was not measured: ${b.mmapMissing}.`, ''] : []),
  ];
}
