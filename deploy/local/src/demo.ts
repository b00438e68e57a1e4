#!/usr/bin/env node
/**
 * The local demo, run after `pnpm stack:up`: registers YOLOX-Nano with the inference service,
 * starts run `demo` on the sample video the way the scheduler starts runs (NATS request/reply to
 * the node's stages), prints the first detections, then how to watch them live.
 */
import { Metadata, credentials } from '@grpc/grpc-js';
import { Bus, controlSubject, detectionsSubject, type StageName } from '@sie/bus';
import {
  FrameDetections,
  InferenceClient,
  StartRunResponse,
  StartRunRequest,
  type LoadModelRequest,
  type ModelInfo,
} from '@sie/contracts';
import { asSieError } from '@sie/errors';
import { AssetNotFoundError, resolveSharedAsset } from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { cliConfig } from './cli.js';
import { DEMO_RUN_ID, demoStartRequest, formatFrame, yoloxLoadRequest } from './demo-spec.js';
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
function modelRequest(): LoadModelRequest {
  try {
    return yoloxLoadRequest(resolveSharedAsset('models/yolox_nano_coco.onnx'), true);
  } catch (err) {
    if (!(err instanceof AssetNotFoundError)) throw err;
    return yoloxLoadRequest(resolveSharedAsset('models/yolox_nano.onnx'), false);
  }
}

function loadModel(client: InferenceClient, request: LoadModelRequest): Promise<ModelInfo> {
  return new Promise((resolve, reject) => {
    client.loadModel(request, new Metadata(), { deadline: Date.now() + 120_000 }, (err, info) =>
      err ? reject(err) : resolve(info),
    );
  });
}

async function startStage(
  bus: Bus,
  nodeId: string,
  stage: StageName,
  request: StartRunRequest,
): Promise<string | undefined> {
  try {
    const res = await bus.request(
      controlSubject(nodeId, stage, 'start'),
      StartRunRequest,
      request,
      StartRunResponse,
      5000,
    );
    if (res.accepted) return undefined;
    return res.error ? `${res.error.code}: ${res.error.message}` : 'refused';
  } catch (err) {
    return asSieError(err).message;
  }
}

/** Resolves with the first frames that have detections, or what came before the deadline. */
function firstDetections(bus: Bus, count: number, timeoutMs: number): Promise<FrameDetections[]> {
  return new Promise((resolve) => {
    const frames: FrameDetections[] = [];
    let seen = 0;
    const finish = (): void => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(frames);
    };
    const sub = bus.subscribe(detectionsSubject(DEMO_RUN_ID), FrameDetections, (msg) => {
      seen += 1;
      if (msg.detections.length > 0) frames.push(msg);
      if (frames.length >= count || seen >= count * 20) finish();
    });
    const timer = setTimeout(finish, timeoutMs);
  });
}

async function main(): Promise<number> {
  const endpoints = endpointsOrExit();
  const request = modelRequest();
  const video = resolveSharedAsset('media/vtest.avi');

  say(`loading model ${request.spec?.id} from ${request.spec?.path} into ${endpoints.grpc} …`);
  const client = new InferenceClient(endpoints.grpc, credentials.createInsecure());
  try {
    const info = await loadModel(client, request);
    say(`model loaded (${info.executionProvider || 'cpu'}, input ${info.inputShape.join('×')})`);
  } catch (err) {
    say(`could not load the model: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    client.close();
  }

  const logger = createLogger({ service: 'demo', level: 'warn' });
  const bus = await Bus.connect({ servers: endpoints.nats, name: 'sie-demo', logger });
  try {
    const start = demoStartRequest(video);
    // Subscribed before the run starts, so the first frames are not missed.
    const detections = firstDetections(bus, FRAMES_SHOWN, waitMs);
    // Downstream stages first, as the scheduler does, so they are ready for the first
    // detections; they are optional here: the detections flow without them.
    for (const stage of ['render', 'rules'] as const) {
      const refused = await startStage(bus, endpoints.nodeId, stage, start);
      say(refused ? `${stage}: not started (${refused})` : `${stage}: run ${DEMO_RUN_ID} started`);
    }
    const refused = await startStage(bus, endpoints.nodeId, 'ingest', start);
    if (refused) {
      say(`ingest refused run ${DEMO_RUN_ID}: ${refused}`);
      return 1;
    }
    say(`ingest: run ${DEMO_RUN_ID} started on ${video} (looped, real time)`);

    const frames = await detections;
    if (frames.length === 0) {
      say(`no detections within ${waitMs} ms; see the logs in ${endpoints.logs}`);
    }
    for (const frame of frames) say(formatFrame(frame));

    const api = `${endpoints.api}/v1/runs/${DEMO_RUN_ID}/detections`;
    say('');
    say('watch it live:');
    say(`  curl -N ${api}            # Server-Sent Events`);
    say(`  curl '${api}?latest'      # the latest frame`);
    // The annotated RTSP output (`ffplay rtsp://…/demo`) is announced here once the render
    // service publishes video (render issue); today it only holds the run.
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
