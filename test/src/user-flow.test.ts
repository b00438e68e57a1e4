/**
 * What a user does, end to end through the REST API with every service as a real process: upload
 * the model, define a pipeline, enqueue a run on the sample video, watch it become active and
 * stream detections over SSE, stop it, and read its history.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePort } from '@sie/infra';
import { asset } from './support/env.js';
import {
  startNode,
  startScheduler,
  startStack,
  until,
  type Stack,
} from './support/scheduler-stack.js';
import { startServiceProcess } from './support/service-process.js';

type Body = Record<string, unknown>;

const CLASS_NAMES = Array.from({ length: 80 }, (_, i) => (i === 0 ? 'person' : `class${i}`));

let stack: Stack;
let base: string;
let dataDir: string;

before(async () => {
  stack = await startStack({ preloadModel: false });
  await startNode(stack, `flow-${process.pid}`);
  await startScheduler(stack, 'flow-scheduler');
  dataDir = mkdtempSync(join(tmpdir(), 'sie-user-flow-'));
  const httpPort = await findFreePort();
  stack.processes.push(
    await startServiceProcess('api', {
      DATABASE_URL: stack.databaseUrl,
      NATS_URL: stack.natsUrl,
      SIE_HTTP__PORT: String(httpPort),
      SIE_DATA_DIR: dataDir,
      SIE_INFERENCE_URL: stack.inferenceUrl ?? '',
    }),
  );
  base = `http://127.0.0.1:${httpPort}`;
});

after(async () => {
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

/** Reads the SSE stream until a detections event with a person arrives. */
async function firstPersonOverSse(runId: string, timeoutMs: number): Promise<Body> {
  const res = await fetch(`${base}/v1/runs/${runId}/detections`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body?.getReader();
  assert.ok(reader);
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the detections stream ended');
    text += decoder.decode(value, { stream: true });
    for (const event of text.split('\n\n').slice(0, -1)) {
      const data = event.split('\n').find((l) => l.startsWith('data: '));
      if (!event.includes('event: detections') || !data) continue;
      const body = JSON.parse(data.slice(6)) as Body & { detections: { label: string }[] };
      if (body.detections.some((d) => d.label === 'person')) {
        await reader.cancel();
        return body;
      }
    }
    text = text.slice(text.lastIndexOf('\n\n') + 2);
  }
}

test(
  'upload → pipeline → run → active with live detections → stop → inactive',
  { timeout: 120_000 },
  async () => {
    const form = new FormData();
    form.append(
      'metadata',
      JSON.stringify({
        name: 'yolox-nano',
        decoder: { type: 'yolox', decodedInGraph: true },
        inputWidth: 416,
        inputHeight: 416,
        classNames: CLASS_NAMES,
      }),
    );
    form.append(
      'file',
      new Blob([readFileSync(asset('models/yolox_nano_coco.onnx'))]),
      'yolox.onnx',
    );
    const uploaded = await fetch(`${base}/v1/models`, { method: 'POST', body: form });
    const model = (await uploaded.json()) as Body;
    assert.equal(uploaded.status, 201, JSON.stringify(model));

    const pipeline = await call('POST', '/v1/pipelines', {
      name: 'street',
      modelId: model.id,
      config: { scoreThreshold: 0.4, classes: ['person'] },
    });
    assert.equal(pipeline.status, 201, JSON.stringify(pipeline.body));
    const run = await call('POST', '/v1/runs', {
      pipelineId: pipeline.body.id,
      source: { url: asset('media/vtest.avi'), loop: true, realtime: true },
      output: { path: 'street/cam1' },
    });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const runId = String(run.body.id);

    const active = await until(
      'the run to become active',
      async () => {
        const r = await call('GET', `/v1/runs/${runId}`);
        return r.body.status === 'active' ? r.body : undefined;
      },
      30_000,
    );
    const output = active.output as { rtspUrl: string };
    assert.ok(output.rtspUrl.endsWith('/street/cam1'), JSON.stringify(active));

    const frame = (await firstPersonOverSse(runId, 20_000)) as {
      detections: { label: string; score: number }[];
    };
    // The pipeline keeps persons only, at 0.4 and above.
    assert.ok(
      frame.detections.every((d) => d.label === 'person' && d.score >= 0.4),
      JSON.stringify(frame),
    );

    // Live figures (ingest heartbeats every second, the detections' latencies): vtest.avi in
    // real time is 10 fps.
    const live = await until(
      'live figures on the run',
      async () => {
        const l = (await call('GET', `/v1/runs/${runId}`)).body.live as {
          fpsIn: number;
          fpsOut: number;
          latencyMs: { p50: number; p99: number };
        } | null;
        return l && l.fpsIn > 0 && l.latencyMs.p50 > 0 ? l : undefined;
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 2500));
    const later = (await call('GET', `/v1/runs/${runId}`)).body.live as typeof live;
    for (const l of [live, later]) {
      // The first heartbeat's rate includes the source's start.
      assert.ok(l.fpsIn > 0 && l.fpsIn <= 14, `fpsIn ${JSON.stringify(l)}`);
      assert.ok(l.fpsOut > 0 && l.fpsOut <= l.fpsIn + 2, `fpsOut ${JSON.stringify(l)}`);
      assert.ok(l.latencyMs.p50 > 0 && l.latencyMs.p99 >= l.latencyMs.p50, JSON.stringify(l));
    }
    assert.ok(Math.abs(later.fpsIn - 10) <= 2, `fpsIn settles near 10: ${JSON.stringify(later)}`);

    const stop = await call('POST', `/v1/runs/${runId}/stop`);
    assert.ok(stop.status === 200 || stop.status === 202, JSON.stringify(stop.body));
    await until(
      'the run to stop',
      async () => (await call('GET', `/v1/runs/${runId}`)).body.status === 'inactive',
      20_000,
    );

    const history = await call('GET', `/v1/runs/${runId}/transitions`);
    const items = history.body.items as { to: string }[] | undefined;
    assert.ok(items, JSON.stringify(history.body));
    const path = items.map((t) => t.to);
    for (const state of [
      'init_startup',
      'in_startup_processing',
      'active',
      'init_shutdown',
      'in_shutdown_processing',
      'inactive',
    ]) {
      assert.ok(path.includes(state), `${state} missing from ${path.join(' → ')}`);
    }
  },
);
