/**
 * During a real run (ingest + inference + rules + render as processes), every service's
 * `/metrics` moves consistently: frames published ≤ decoded and both grow, inference answers,
 * rules and render keep up. Then the render process is paused (SIGSTOP) for 3 s: ingest and
 * rules go on, render writes nothing meanwhile, and once it resumes the frames that queued up
 * behind the pause are counted as `superseded` drops (the output clock draws only the newest).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RtspServer } from '@sie/rtsp-server';
import { asset, natsUrl } from './support/env.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { startRun, startStageRun, type TestRun } from './support/runs.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

let rtsp: RtspServer;
let node: NodeStack;
let rules: ServiceProcess;
let render: ServiceProcess;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  rtsp = new RtspServer({ host: '127.0.0.1', port: 0 });
  const rtspPort = await rtsp.start();
  node = await startNodeStack('metrics');
  const common = { NATS_URL: natsUrl(), SIE_NODE_ID: node.nodeId };
  [rules, render] = await Promise.all([
    startServiceProcess('rules', common),
    startServiceProcess('render', {
      ...common,
      SIE_FRAME_STORE_DIR: node.frameDir,
      SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${rtspPort}`,
    }),
  ]);
});

after(async () => {
  if (render?.child.pid) {
    try {
      process.kill(render.child.pid, 'SIGCONT');
    } catch {
      // Already gone.
    }
  }
  await Promise.all([rules?.stop(), render?.stop(), node?.stop()]);
  await rtsp?.stop();
});

type Scrape = (name: string, ...labels: string[]) => number;

/** Scrapes a service's /metrics; the result sums the samples of a name whose labels hold all of `labels`. */
async function scrape(p: ServiceProcess): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${p.opsPort}/metrics`)).text();
  return (name, ...labels) => {
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      if (labels.every((l) => (m[2] ?? '').includes(l))) sum += Number(m[3]);
    }
    return sum;
  };
}

async function scrapeAll(): Promise<Record<'ingest' | 'inference' | 'rules' | 'render', Scrape>> {
  const [ingest, inference, r, rd] = await Promise.all([
    scrape(node.ingest),
    scrape(node.inference),
    scrape(rules),
    scrape(render),
  ]);
  return { ingest, inference, rules: r, render: rd };
}

test(
  'counters move consistently during a run; a paused render shows the gap as drops',
  { timeout: 120_000 },
  async (t) => {
    const runId = `metrics-${process.pid}`;
    const run: TestRun = {
      runId,
      modelId: 'yolox',
      source: { url: asset('media/vtest.avi'), realtime: true, loop: true },
    };
    for (const stage of ['rules', 'render'] as const) {
      const answer = await startStageRun(node.bus, node.nodeId, stage, run);
      assert.equal(answer.accepted, true, `${stage}: ${answer.error?.message}`);
    }
    const answer = await startRun(node.bus, node.nodeId, run);
    assert.equal(answer.accepted, true, answer.error?.message);
    const r = `run="${runId}"`;
    await sleep(4000);

    const a = await scrapeAll();
    await sleep(3000);
    const b = await scrapeAll();
    for (const s of [a, b]) {
      const decoded = s.ingest('sie_ingest_frames_decoded_total', r);
      const published = s.ingest('sie_ingest_frames_published_total', r);
      assert.ok(
        published > 0 && published <= decoded,
        `published ${published}, decoded ${decoded}`,
      );
    }
    const grew = (name: string, x: Scrape, y: Scrape, ...labels: string[]): number => {
      const d = y(name, ...labels) - x(name, ...labels);
      assert.ok(d > 0, `${name} did not grow (${x(name, ...labels)} → ${y(name, ...labels)})`);
      return d;
    };
    // 3 s of a 10 fps source.
    const decoded = grew('sie_ingest_frames_decoded_total', a.ingest, b.ingest, r);
    assert.ok(decoded >= 15 && decoded <= 45, `${decoded} frames decoded in 3 s`);
    grew('sie_ingest_frames_published_total', a.ingest, b.ingest, r);
    grew('sie_inference_requests_total', a.inference, b.inference, 'outcome="ok"');
    grew('sie_rules_frames_total', a.rules, b.rules, r);
    grew('sie_render_frames_out_total', a.render, b.render, r);

    // Pause render for 3 s: the rest of the pipeline goes on without it.
    const dropsBefore = b.render('sie_render_dropped_total', r);
    const supersededBefore = b.render('sie_render_dropped_total', r, 'reason="superseded"');
    const pid = render.child.pid;
    assert.ok(pid, 'render pid');
    process.kill(pid, 'SIGSTOP');
    const c = await Promise.all([scrape(node.ingest), scrape(rules)]);
    try {
      await sleep(3000);
      const d = await Promise.all([scrape(node.ingest), scrape(rules)]);
      grew('sie_ingest_frames_published_total', c[0], d[0], r);
      grew('sie_rules_frames_total', c[1], d[1], r);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await sleep(2000);
    const paused = await scrapeAll();
    const drops = paused.render('sie_render_dropped_total', r) - dropsBefore;
    const superseded =
      paused.render('sie_render_dropped_total', r, 'reason="superseded"') - supersededBefore;
    t.diagnostic(`render after a 3 s pause: ${drops} drops, ${superseded} superseded`);
    assert.ok(superseded >= 10, `only ${superseded} frames superseded behind the pause`);
    // Render is back: it writes frames again.
    grew('sie_render_frames_out_total', b.render, paused.render, r);
  },
);
