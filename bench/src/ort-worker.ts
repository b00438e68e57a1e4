/**
 * One thread of the "raw ONNX Runtime throughput" measurement: its own session (1 intra-op
 * thread, as each inference-service worker has) running the same frames as fast as it can.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { YOLOX_TARGET, decodeOptions, loadEngine, type EnginePlan } from './engine.js';
import { openYolox, runOnce } from './ort.js';
import { nowMs } from './util.js';

export interface OrtWorkerData {
  modelPath: string;
  frames: SharedArrayBuffer;
  frameCount: number;
  width: number;
  height: number;
  /** `run`: session.run alone on a letterboxed frame; `full`: letterbox + run + decode per frame. */
  mode: 'run' | 'full';
  intraOpThreads: number;
}

export type OrtWorkerMessage = { kind: 'ready' } | { kind: 'done'; frames: number };

const data = workerData as OrtWorkerData;
const port = parentPort;
if (!port) throw new Error('ort-worker runs as a worker thread');

const engine = await loadEngine();
const runner = await openYolox(engine, data.modelPath, data.intraOpThreads);
const frameBytes = data.width * data.height * 3;
const image = (i: number): Uint8Array =>
  new Uint8Array(data.frames, (i % data.frameCount) * frameBytes, frameBytes);

let plan: EnginePlan | undefined;
async function step(i: number): Promise<void> {
  if (data.mode === 'full' || plan === undefined) {
    plan = engine.letterbox(
      { data: image(i), width: data.width, height: data.height, order: 'bgr' },
      YOLOX_TARGET,
      runner.input,
      plan,
    );
  }
  const out = await runOnce(runner);
  if (data.mode === 'full') {
    runner.decoder.decode(out.data as Float32Array, decodeOptions(plan, data.width, data.height));
  }
  out.dispose();
}

for (let i = 0; i < 3; i++) await step(i);
port.once('message', (msg: { until: number }) => {
  void (async () => {
    let n = 0;
    while (nowMs() < msg.until) await step(n++);
    port.postMessage({ kind: 'done', frames: n } satisfies OrtWorkerMessage);
  })();
});
port.postMessage({ kind: 'ready' } satisfies OrtWorkerMessage);
