import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FrameDetections, StartRunRequest, StartRunResponse } from '@sie/contracts';
import { InvalidArgumentError, TimeoutError, UnavailableError } from '@sie/errors';
import { findFreePort, startNats, type NatsServer } from '@sie/infra';
import { context, createLogger, initTracing, trace } from '@sie/telemetry';
import { Bus, detectionsSubject } from './index.js';

const logger = createLogger({ service: 'bus-test', level: 'silent' });
let own: { server: NatsServer; dir: string } | undefined;
let url: string;
let bus: Bus;

before(async () => {
  url = process.env.NATS_URL ?? '';
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'sie-bus-'));
    const server = await startNats({ port: await findFreePort(), storeDir: dir });
    own = { server, dir };
    url = server.url;
  }
  bus = await Bus.connect({ servers: url, name: 'bus-test', logger });
});

after(async () => {
  await bus?.close();
  if (own) {
    await own.server.stop();
    rmSync(own.dir, { recursive: true, force: true });
  }
});

test('a published protobuf message arrives decoded with the publisher trace context', async () => {
  const tracing = initTracing({ service: 'bus-test', sampleRatio: 1 });
  const span = tracing.tracer.startSpan('frame 1');
  const got = new Promise<{ d: FrameDetections; traceId: string | undefined }>((resolve) => {
    bus.subscribe(detectionsSubject('bus-run'), FrameDetections, (d, delivery) =>
      resolve({ d, traceId: trace.getSpanContext(delivery.traceContext)?.traceId }),
    );
  });
  await bus.flush();
  bus.publish(
    detectionsSubject('bus-run'),
    FrameDetections,
    FrameDetections.fromPartial({ modelId: 'm', detections: [{ label: 'dog', score: 0.5 }] }),
    trace.setSpan(context.active(), span),
  );
  const { d, traceId } = await got;
  assert.equal(d.detections[0]?.label, 'dog');
  assert.equal(traceId, span.spanContext().traceId);
  span.end();
  await tracing.shutdown();
});

test('request/reply: answers, handler errors carry their code, silence is a timeout', async () => {
  bus.serve(
    'sie.test.start',
    StartRunRequest,
    StartRunResponse,
    (req) => {
      if (!req.run?.runId) throw new InvalidArgumentError('run id missing', 'run.runId');
      return Promise.resolve({ accepted: true, error: undefined });
    },
    (err) => ({ accepted: false, error: err.toPayload() }),
  );
  await bus.flush();
  const ok = await bus.request(
    'sie.test.start',
    StartRunRequest,
    StartRunRequest.fromPartial({ run: { runId: 'r' } }),
    StartRunResponse,
    2000,
  );
  assert.equal(ok.accepted, true);
  const refused = await bus.request('sie.test.start', StartRunRequest, {}, StartRunResponse, 2000);
  assert.equal(refused.accepted, false);
  assert.equal(refused.error?.code, 'invalid_argument');
  assert.equal(refused.error?.details.field, 'run.runId');
  await assert.rejects(
    bus.request('sie.test.nobody', StartRunRequest, {}, StartRunResponse, 300),
    UnavailableError,
  );
  // A responder that never answers: the caller gets a TimeoutError, not a hang.
  bus.nc.subscribe('sie.test.silent', { callback: () => undefined });
  await bus.flush();
  await assert.rejects(
    bus.request('sie.test.silent', StartRunRequest, {}, StartRunResponse, 300),
    TimeoutError,
  );
});

test('NATS errors reach the onError hook (sie_nats_errors_total): a throwing handler, a request nobody answers', async () => {
  const kinds: string[] = [];
  const counted = await Bus.connect({
    servers: url,
    name: 'bus-test-errors',
    logger,
    onError: (kind) => kinds.push(kind),
  });
  try {
    const subject = detectionsSubject('bus-errors');
    counted.subscribe(subject, FrameDetections, () => {
      throw new Error('handler bug');
    });
    await counted.flush();
    counted.publish(subject, FrameDetections, FrameDetections.fromPartial({}));
    await assert.rejects(
      counted.request(
        detectionsSubject('nobody-home'),
        StartRunRequest,
        StartRunRequest.fromPartial({}),
        StartRunResponse,
        500,
      ),
    );
    const deadline = Date.now() + 2000;
    while (!kinds.includes('handler') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual([...new Set(kinds)].sort(), ['handler', 'request']);
  } finally {
    await counted.close();
  }
});
