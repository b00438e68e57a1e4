#!/usr/bin/env node
/**
 * The local demo, run after `pnpm stack:up`, doing what a user does through the REST API:
 * registers YOLOX-Nano (`POST /v1/models`), defines a pipeline, enqueues a run on the sample
 * video (`POST /v1/runs`), waits for the scheduler to place it and for it to become active, then
 * prints its first detections (from NATS, as an integration would read them) and how to watch.
 */
import { Bus, detectionsSubject } from '@sie/bus';
import { FrameDetections } from '@sie/contracts';
import { asSieError } from '@sie/errors';
import { AssetNotFoundError, resolveSharedAsset } from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { cliConfig } from './cli.js';
import { DemoApi } from './demo-api.js';
import { DEMO_OUTPUT_PATH, DEMO_PIPELINE, formatFrame } from './demo-spec.js';
import type { StackEndpoints } from './endpoints.js';
import { stackPaths } from './paths.js';
import { readState } from './state-file.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const FRAMES_SHOWN = 5;
const waitMs = Number(process.env['SIE_DEMO_TIMEOUT_MS'] ?? 60_000);

function endpointsOrExit(): StackEndpoints {
  const config = cliConfig();
  const state = readState(stackPaths(config.dataDir).stateFile);
  if (state?.state !== 'ready' || !state.endpoints) {
    say(`the stack is not running (state: ${state?.state ?? 'none'}); run \`pnpm stack:up\` first`);
    process.exit(1);
  }
  return state.endpoints;
}

/** The model in ../shared (decoded in graph), else the release file `pnpm setup` downloads. */
function modelFile(): { path: string; decodedInGraph: boolean } {
  try {
    return { path: resolveSharedAsset('models/yolox_nano_coco.onnx'), decodedInGraph: true };
  } catch (err) {
    if (!(err instanceof AssetNotFoundError)) throw err;
    return { path: resolveSharedAsset('models/yolox_nano.onnx'), decodedInGraph: false };
  }
}

/** Enqueues the demo run, or finds the one a previous demo left running on the same output. */
async function demoRun(api: DemoApi, pipelineId: string, video: string): Promise<string> {
  const created = await api.call('POST', '/v1/runs', {
    pipelineId,
    source: { url: video, loop: true, realtime: true },
    output: { path: DEMO_OUTPUT_PATH },
  });
  if (created.status === 202) return String(created.body.id);
  if (created.status === 409) {
    const live = await api.call('GET', '/v1/runs?status=init_startup,in_startup_processing,active');
    const items = (live.body.items ?? []) as Array<{ id: string; output: { path: string } }>;
    const mine = items.find((r) => r.output.path === DEMO_OUTPUT_PATH);
    if (mine) return mine.id;
  }
  throw new Error(`POST /v1/runs answered ${created.status}: ${JSON.stringify(created.body)}`);
}

async function waitActive(api: DemoApi, runId: string): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  let last = '';
  while (Date.now() < deadline) {
    const { body } = await api.call('GET', `/v1/runs/${runId}`);
    const status = String(body.status);
    if (status !== last)
      say(`run ${runId}: ${status}${body.nodeId ? ` on node ${String(body.nodeId)}` : ''}`);
    last = status;
    if (status === 'active') return true;
    if (status === 'failed' || status === 'inactive') {
      say(`the run ended: ${JSON.stringify(body.reason)}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  say(`the run did not become active within ${waitMs} ms`);
  return false;
}

/** Resolves with the first frames that have detections, or what came before the deadline. */
function firstDetections(
  bus: Bus,
  runId: string,
  count: number,
  timeoutMs: number,
): Promise<FrameDetections[]> {
  return new Promise((resolve) => {
    const frames: FrameDetections[] = [];
    let seen = 0;
    const finish = (): void => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(frames);
    };
    const sub = bus.subscribe(detectionsSubject(runId), FrameDetections, (msg) => {
      seen += 1;
      if (msg.detections.length > 0) frames.push(msg);
      if (frames.length >= count || seen >= count * 20) finish();
    });
    const timer = setTimeout(finish, timeoutMs);
  });
}

async function main(): Promise<number> {
  const endpoints = endpointsOrExit();
  const api = new DemoApi(endpoints.api);
  const model = modelFile();
  const video = resolveSharedAsset('media/vtest.avi');

  say(`registering ${model.path} (POST ${endpoints.api}/v1/models) …`);
  const modelId = await api.registerModel(model.path, model.decodedInGraph);
  const pipelineId = await api.pipeline(DEMO_PIPELINE.name, modelId, DEMO_PIPELINE.config);
  say(`model ${modelId}, pipeline ${pipelineId}`);
  const runId = await demoRun(api, pipelineId, video);
  say(`run ${runId} on ${video} (looped, real time)`);

  const logger = createLogger({ service: 'demo', level: 'warn' });
  const bus = await Bus.connect({ servers: endpoints.nats, name: 'sie-demo', logger });
  try {
    const detections = firstDetections(bus, runId, FRAMES_SHOWN, waitMs);
    if (!(await waitActive(api, runId))) return 1;
    const frames = await detections;
    if (frames.length === 0)
      say(`no detections within ${waitMs} ms; see the logs in ${endpoints.logs}`);
    for (const frame of frames) say(formatFrame(frame));

    const url = `${endpoints.api}/v1/runs/${runId}`;
    say('');
    say('watch it live:');
    say(`  curl -N ${url}/detections            # Server-Sent Events`);
    say(`  curl '${url}/detections?latest'      # the latest frame`);
    say(`  curl ${url}                          # status, node, output`);
    say(`  curl ${url}/transitions              # its history`);
    say(`  curl -X POST ${url}/stop             # stop the run`);
    say(
      `  ffplay -rtsp_transport tcp ${endpoints.rtsp}/${DEMO_OUTPUT_PATH}   # the annotated video`,
    );
    say(`  http://127.0.0.1:9106/runs/${runId}/preview     # the same in a browser (MJPEG)`);
    say(`  ${endpoints.api}/dashboard/                         # the operator dashboard`);
    say(`  ${endpoints.api}/docs                               # every route`);
    say('  pnpm stack:down                                      # stop everything');
    return frames.length > 0 ? 0 : 1;
  } finally {
    await bus.close();
  }
}

process.exitCode = await main().catch((err: unknown) => {
  say(`demo failed: ${asSieError(err).message}`);
  return 1;
});
