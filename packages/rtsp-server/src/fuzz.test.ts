/**
 * Adversarial RTSP clients against a server that is relaying a real stream: hand-written attacks
 * (missing and bad CSeq, huge headers, too many headers, oversized bodies, binary garbage, bogus
 * interleaved frames, slowloris, a pipelining flood that never reads its answers, bad Transport
 * headers, unknown sessions, path traversal, too many sessions) and fast-check generated requests.
 * Every one is answered with a 4xx/5xx status (never 500) or its connection closed within a
 * deadline; meanwhile a real ffmpeg reader of the published stream keeps decoding, and a new
 * reader can still connect afterwards. The fast-check seed is printed; SIE_FUZZ_SEED replays it.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { RtspServer } from './server.js';
import { decode, decodeFor, publish, waitFor, type Running } from './testing/ffmpeg.js';
import { RawRtspClient } from './testing/raw-client.js';
import { recordRejectedInput } from './testing/reliability.js';
import { interleaved } from './testing/synthetic.js';

const SEED = Number(process.env.SIE_FUZZ_SEED ?? Date.now() % 0x7fffffff);
const REQUEST_TIMEOUT_MS = 1000;
const LIMITS = {
  maxHeaderBytes: 8192,
  maxHeaderCount: 32,
  maxBodyBytes: 16384,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  maxSessionsPerConnection: 4,
  maxReplyBacklogBytes: 256 * 1024,
};
/** Statuses an attack may get; 500 (a handler that threw) is never one of them. */
const ALLOWED = new Set([200, 400, 404, 408, 413, 415, 451, 454, 455, 459, 461, 501, 503, 505]);
/** A reader over TCP: 45 s of the 10 fps stream while every attack runs. */
const WINDOW_S = 45;

let server: RtspServer;
let port: number;
let publisher: Running;
let reading: ReturnType<typeof decodeFor>;
const url = (path: string): string => `rtsp://127.0.0.1:${port}/${path}`;

before(async () => {
  server = new RtspServer({ port: 0, ...LIMITS });
  port = await server.start();
  publisher = publish(url('live'), 'tcp', 180_000, true);
  await waitFor(() => server.paths().some((p) => p.path === 'live' && p.ready), 20_000, 'publish');
  reading = decodeFor(url('live'), 'tcp', WINDOW_S);
  await waitFor(() => server.stats().readers >= 1, 10_000, 'the ffmpeg reader to play');
});

after(async () => {
  publisher?.kill();
  await server?.stop();
});

/** Sends `bytes` on a fresh connection; resolves with what came back once answered or closed. */
async function attack(
  bytes: string | Buffer,
  deadlineMs = REQUEST_TIMEOUT_MS + 4000,
): Promise<{ statuses: number[]; closed: boolean; client: RawRtspClient }> {
  const c = await RawRtspClient.connect(port);
  c.write(bytes);
  await c.until(() => c.responses.length > 0 || c.isClosed, deadlineMs).catch(() => undefined);
  // A second of grace for the close that follows a fatal answer.
  if (c.responses.length > 0 && !c.isClosed) await c.waitClosed(300);
  return { statuses: c.responses.map((r) => r.status), closed: c.isClosed, client: c };
}

function assertAnswered(r: { statuses: number[]; closed: boolean }, what: string): void {
  assert.ok(r.statuses.length > 0 || r.closed, `${what}: neither answered nor closed`);
  for (const s of r.statuses) assert.ok(ALLOWED.has(s), `${what}: status ${s}`);
}

const rejected: string[] = [];
function passed(name: string, detail: string): void {
  rejected.push(name);
  recordRejectedInput(`RTSP: ${name}`, detail);
}

test('no CSeq, a bad CSeq and two CSeqs: 400, the connection stays usable', async () => {
  const c = await RawRtspClient.connect(port);
  c.write('OPTIONS * RTSP/1.0\r\n\r\n');
  assert.equal((await c.nextResponse(0)).status, 400);
  c.write('OPTIONS * RTSP/1.0\r\nCSeq: -1\r\n\r\n');
  const bad = await c.nextResponse(1);
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('cseq'), undefined, 'a bad CSeq is not echoed');
  c.write('OPTIONS * RTSP/1.0\r\nCSeq: 99999999999\r\n\r\n');
  assert.equal((await c.nextResponse(2)).status, 400);
  c.write('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n');
  assert.equal((await c.nextResponse(3)).status, 400);
  assert.equal((await c.request('OPTIONS', '*')).status, 200);
  c.close();
  passed('missing, non-numeric, oversized and repeated CSeq', '400 each, connection kept');
});

test('a header line over maxHeaderBytes and more than maxHeaderCount headers: 400 and closed', async () => {
  const huge = await attack(
    `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'x'.repeat(200_000)}\r\n\r\n`,
  );
  assert.deepEqual(huge.statuses, [400]);
  assert.ok(huge.closed);
  let many = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n';
  for (let i = 0; i < LIMITS.maxHeaderCount + 1; i++) many += `X-${i}: y\r\n`;
  const counted = await attack(`${many}\r\n`);
  assert.deepEqual(counted.statuses, [400]);
  assert.ok(counted.closed);
  passed(
    'huge header line and too many headers',
    `400 and closed (maxHeaderBytes ${LIMITS.maxHeaderBytes}, maxHeaderCount ${LIMITS.maxHeaderCount})`,
  );
});

test('a body over maxBodyBytes: 413 before it is read, and closed', async () => {
  const r = await attack(
    `ANNOUNCE ${url('big')} RTSP/1.0\r\nCSeq: 7\r\nContent-Type: application/sdp\r\nContent-Length: 50000000\r\n\r\n`,
  );
  assert.deepEqual(r.statuses, [413]);
  assert.equal(r.client.responses[0]?.headers.get('cseq'), '7');
  assert.ok(r.closed);
  passed(
    'request body over maxBodyBytes',
    `413 from the declared length, closed (limit ${LIMITS.maxBodyBytes} B)`,
  );
});

test('binary garbage and bogus interleaved frames', async () => {
  const garbage = await attack(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
  assert.deepEqual(garbage.statuses, [400]);
  assert.ok(garbage.closed);
  // A frame on a channel nobody set up is skipped; the request after it is answered.
  const skipped = await attack(
    Buffer.concat([
      interleaved(201, Buffer.alloc(300, 7)),
      Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 3\r\n\r\n'),
    ]),
  );
  assert.deepEqual(skipped.statuses, [200]);
  skipped.client.close();
  // A frame that announces 65535 bytes and sends 5 never completes: closed at requestTimeoutMs.
  const started = Date.now();
  const stuck = await attack(Buffer.from([0x24, 0x09, 0xff, 0xff, 1, 2, 3, 4, 5]));
  assert.ok(stuck.closed, 'a half interleaved frame without a session is not kept');
  assert.ok(Date.now() - started >= REQUEST_TIMEOUT_MS - 100);
  passed(
    'binary garbage; $-frames with bogus channel and length',
    '400 and closed; stray frames skipped; half frames closed at requestTimeoutMs',
  );
});

test('slowloris: a request trickled a byte at a time is cut off at requestTimeoutMs', async () => {
  const c = await RawRtspClient.connect(port);
  const text = `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;
  const started = Date.now();
  let i = 0;
  const trickle = setInterval(() => {
    if (!c.isClosed && i < text.length) c.write(text[i++] ?? '');
  }, 50);
  try {
    assert.ok(await c.waitClosed(REQUEST_TIMEOUT_MS + 3000), 'the trickling connection was closed');
  } finally {
    clearInterval(trickle);
  }
  const took = Date.now() - started;
  assert.ok(
    took >= REQUEST_TIMEOUT_MS - 100 && took < REQUEST_TIMEOUT_MS + 3000,
    `closed after ${took} ms`,
  );
  assert.equal(c.responses[0]?.status, 408);
  assert.ok(server.stats().requestTimeouts >= 1);
  passed(
    'slowloris (request trickled a byte every 50 ms)',
    `408 and closed after ${took} ms (requestTimeoutMs ${REQUEST_TIMEOUT_MS})`,
  );
});

test('a pipelining flood whose answers are never read does not make the server buffer them', async () => {
  const request = Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');
  const total = 8 * 1024 * 1024;
  const chunk = Buffer.concat(
    Array.from({ length: Math.floor(65536 / request.length) }, () => request),
  );
  const before = server.stats().bytesReceived;
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  sock.on('error', () => undefined);
  sock.pause(); // never read the answers
  let written = 0;
  const writeMore = (): void => {
    while (written < total) {
      written += chunk.length;
      if (!sock.write(chunk)) return;
    }
  };
  sock.on('drain', writeMore);
  writeMore();
  await new Promise((r) => setTimeout(r, 3000));
  const read = server.stats().bytesReceived - before;
  sock.destroy();
  // Without backpressure the server would read all 8 MiB and queue ~4x that in answers.
  assert.ok(read < 6 * 1024 * 1024, `the server read ${read} bytes of an unread flood`);
  const after = await RawRtspClient.connect(port);
  assert.equal((await after.request('OPTIONS', '*')).status, 200);
  after.close();
  passed(
    'pipelining flood that never reads its answers',
    `server stopped reading after ${Math.round(read / 1024)} KiB of 8 MiB (maxReplyBacklogBytes ${LIMITS.maxReplyBacklogBytes})`,
  );
});

test('bad Transport headers, unknown sessions, SETUP without DESCRIBE, too many sessions', async () => {
  const c = await RawRtspClient.connect(port);
  const track = `${url('live')}/trackID=0`;
  assert.equal((await c.request('SETUP', track)).status, 400, 'no Transport');
  assert.equal((await c.request('SETUP', track, { Transport: 'RTP/AVP;multicast' })).status, 461);
  assert.equal((await c.request('SETUP', track, { Transport: '\u00ff\u00fe;;;==' })).status, 461);
  const odd = await c.request('SETUP', track, { Transport: 'RTP/AVP/TCP;interleaved=999-1000' });
  assert.ok([200, 461].includes(odd.status), `interleaved=999-1000: ${odd.status}`);
  assert.equal((await c.request('PLAY', url('live'), { Session: 'ffffffffffffffff' })).status, 454);
  assert.equal((await c.request('PLAY', url('live'))).status, 454, 'PLAY without a session');
  assert.equal((await c.request('RECORD', url('live'), { Session: '1' })).status, 454);
  assert.equal((await c.request('TEARDOWN', url('live'), { Session: '../../x' })).status, 454);
  // SETUP without DESCRIBE is legal (RFC 2326); each one opens a session, up to the limit.
  const statuses: number[] = [];
  for (let i = 0; i < LIMITS.maxSessionsPerConnection + 2; i++) {
    statuses.push((await c.request('SETUP', track, { Transport: 'RTP/AVP/TCP;unicast' })).status);
  }
  const opened = statuses.filter((s) => s === 200).length + (odd.status === 200 ? 1 : 0);
  assert.equal(opened, LIMITS.maxSessionsPerConnection);
  assert.equal(statuses.at(-1), 503);
  c.close();
  passed(
    'bad Transport, unknown sessions, PLAY without SETUP, sessions over maxSessionsPerConnection',
    '400/454/461/503, the connection kept',
  );
});

test('path traversal and hostile URLs are refused', async () => {
  const c = await RawRtspClient.connect(port);
  for (const u of [
    `rtsp://127.0.0.1:${port}/../../etc/passwd`,
    `rtsp://127.0.0.1:${port}/live/%2e%2e/%2e%2e/etc`,
    '/%2e%2e/x',
    `rtsp://127.0.0.1:${port}/a%00b`,
    `rtsp://127.0.0.1:${port}/%zz`,
    'http://example.com/live',
  ]) {
    const r = await c.request('DESCRIBE', u);
    assert.ok([400, 404].includes(r.status), `${u}: ${r.status}`);
  }
  const ann = await c.request(
    'ANNOUNCE',
    '/x/%2e%2e/%2e%2e/y',
    { 'Content-Type': 'application/sdp' },
    'v=0\r\n',
  );
  assert.equal(ann.status, 400);
  assert.ok(!server.paths().some((p) => p.path.includes('..')));
  c.close();
  passed('path traversal and non-RTSP URLs', '400 (or 404), no path created');
});

// One generated request: a method, a URI, a CSeq and headers drawn from hostile sets, then
// possibly cut short, corrupted, or preceded by an interleaved frame.
const token = fc.stringMatching(/^[A-Za-z_-]{1,12}$/);
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\t', '-1', '0', '4294967296', '1e9', '..', '%00', 'x'.repeat(3000)),
);
const requestArb = fc
  .record({
    method: fc.oneof(
      fc.constantFrom(
        'OPTIONS',
        'DESCRIBE',
        'SETUP',
        'PLAY',
        'PAUSE',
        'RECORD',
        'ANNOUNCE',
        'TEARDOWN',
        'GET_PARAMETER',
        'SET_PARAMETER',
      ),
      token,
    ),
    uri: fc.oneof(
      fc.constantFrom(
        '*',
        'LIVE',
        'LIVE/trackID=0',
        'LIVE/trackID=99',
        'fz',
        '../../etc/passwd',
        '',
        'rtsp://',
        'rtsp://[::1',
      ),
      hostileText,
    ),
    version: fc.constantFrom('RTSP/1.0', 'RTSP/1.0', 'RTSP/2.0', 'HTTP/1.1', 'RTSP/1.0 junk'),
    cseq: fc.option(fc.oneof(fc.nat().map(String), hostileText)),
    headers: fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'Transport',
            'Session',
            'Content-Length',
            'Content-Type',
            'Range',
            'Require',
          ),
          token,
        ),
        fc.oneof(
          fc.constantFrom(
            'RTP/AVP/TCP;unicast;interleaved=0-1',
            'RTP/AVP;unicast;client_port=1-2',
            'RTP/AVP;multicast',
            'application/sdp',
            '5',
            '-5',
            '99999999999',
          ),
          hostileText,
        ),
      ),
      { maxLength: 6 },
    ),
    body: fc.option(fc.uint8Array({ maxLength: 300 })),
    mangle: fc.constantFrom('none', 'none', 'truncate', 'flip', 'frame-first', 'no-blank-line'),
    cut: fc.nat(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    }),
    frame: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })),
  })
  .map((g) => {
    const uri = g.uri.startsWith('LIVE') ? url(g.uri.replace('LIVE', 'live')) : g.uri;
    let text = `${g.method} ${uri} ${g.version}\r\n`;
    if (g.cseq !== null) text += `CSeq: ${g.cseq}\r\n`;
    for (const [k, v] of g.headers) text += `${k}: ${v}\r\n`;
    text += g.mangle === 'no-blank-line' ? '' : '\r\n';
    let bytes = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(g.body ?? [])]);
    if (g.mangle === 'truncate') bytes = bytes.subarray(0, g.cut % Math.max(1, bytes.length));
    if (g.mangle === 'flip') {
      bytes = Buffer.from(bytes);
      for (const [at, v] of g.flips) bytes[at % bytes.length] = v;
    }
    if (g.mangle === 'frame-first') {
      bytes = Buffer.concat([interleaved(g.frame[0], Buffer.from(g.frame[1])), bytes]);
    }
    return bytes;
  });

test('fast-check: generated requests are answered or cut off, never a 500, never a hang', async (t) => {
  t.diagnostic(`fast-check seed ${SEED} (replay with SIE_FUZZ_SEED=${SEED})`);
  const badBefore = server.stats().badRequests;
  let inputs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb, { minLength: 8, maxLength: 8 }), async (batch) => {
      // Eight connections at once; each ends with a well-formed request, so every connection
      // must produce an answer or be closed within the deadline, whatever came before.
      const results = await Promise.all(
        batch.map((bytes) =>
          attack(
            Buffer.concat([bytes, Buffer.from('\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 5\r\n\r\n')]),
          ),
        ),
      );
      for (const [i, r] of results.entries()) {
        r.client.close();
        assertAnswered(r, JSON.stringify(batch[i]?.toString('latin1').slice(0, 200)));
      }
      inputs += batch.length;
    }),
    { seed: SEED, numRuns: 20 },
  );
  assert.ok(server.stats().badRequests > badBefore);
  await waitFor(() => server.stats().connections <= 3, 10_000, 'fuzz connections cleaned up');
  passed(
    'generated requests (fast-check: methods, URIs, CSeq, headers, bodies, truncation, bit flips, $-frames)',
    `${inputs} inputs, every one answered without 500 or closed (seed ${SEED})`,
  );
});

test(
  `meanwhile the ffmpeg reader kept decoding, and a new reader can still connect`,
  { timeout: 90_000 },
  async () => {
    const r = await reading;
    assert.equal(r.code, 0, r.stderr);
    const want = Math.floor(WINDOW_S * 10 * 0.85);
    assert.ok(r.frames >= want, `decoded ${r.frames} frames in ${WINDOW_S} s, want >= ${want}`);
    assert.deepEqual(r.problems, []);
    const late = await decode(url('live'), 'tcp', 10);
    assert.equal(late.frames, 10, late.stderr);
    assert.deepEqual(late.problems, []);
    assert.ok(server.paths().find((p) => p.path === 'live')?.ready);
    assert.ok(rejected.length >= 8, `every attack class ran (${rejected.join('; ')})`);
  },
);
