import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtspMessageParser } from './parser.js';
import type { RtspMessage } from './parser.js';

const limits = { maxHeaderBytes: 1024, maxBodyBytes: 4096 };

function parseAll(chunks: Array<string | Buffer>): RtspMessage[] {
  const p = new RtspMessageParser(limits);
  const out: RtspMessage[] = [];
  for (const c of chunks) out.push(...p.push(typeof c === 'string' ? Buffer.from(c) : c));
  return out;
}

const OPTIONS = 'OPTIONS rtsp://h/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n';
const ANNOUNCE =
  'ANNOUNCE rtsp://h/cam RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n' +
  'Content-Length: 10\r\n\r\nv=0\r\ns=x\r\n';

function frame(channel: number, payload: number[]): Buffer {
  return Buffer.from([0x24, channel, 0, payload.length, ...payload]);
}

test('a request split into single bytes is reassembled', () => {
  const bytes = [...Buffer.from(ANNOUNCE)].map((b) => Buffer.from([b]));
  const msgs = parseAll(bytes);
  assert.equal(msgs.length, 1);
  const m = msgs[0];
  assert.ok(m?.kind === 'request');
  assert.equal(m.method, 'ANNOUNCE');
  assert.equal(m.uri, 'rtsp://h/cam');
  assert.equal(m.version, 'RTSP/1.0');
  assert.equal(m.headers.get('cseq'), '2');
  assert.equal(m.headers.get('CONTENT-TYPE'), 'application/sdp');
  assert.equal(m.body.toString(), 'v=0\r\ns=x\r\n');
});

test('pipelined requests in one chunk come out in order', () => {
  const msgs = parseAll([OPTIONS + ANNOUNCE + OPTIONS.replace('CSeq: 1', 'CSeq: 3')]);
  assert.deepEqual(
    msgs.map((m) => (m.kind === 'request' ? `${m.method}:${m.headers.get('cseq')}` : m.kind)),
    ['OPTIONS:1', 'ANNOUNCE:2', 'OPTIONS:3'],
  );
});

test('interleaved frames between and around requests, split anywhere', () => {
  const all = Buffer.concat([
    frame(0, [1, 2, 3]),
    Buffer.from(OPTIONS),
    frame(1, [9]),
    frame(0, []),
    Buffer.from(ANNOUNCE),
    frame(2, [7, 7]),
  ]);
  for (let cut = 1; cut < all.length; cut++) {
    const msgs = parseAll([all.subarray(0, cut), all.subarray(cut)]);
    const summary = msgs.map((m) =>
      m.kind === 'interleaved' ? `$${m.channel}:${[...m.payload].join(',')}` : m.kind,
    );
    assert.deepEqual(
      summary,
      ['$0:1,2,3', 'request', '$1:9', '$0:', 'request', '$2:7,7'],
      `cut ${cut}`,
    );
  }
});

test('a body is waited for and taken by Content-Length, not by blank lines', () => {
  const p = new RtspMessageParser(limits);
  const head = 'SET_PARAMETER * RTSP/1.0\r\nCSeq: 5\r\nContent-Length: 7\r\n\r\n';
  assert.deepEqual(p.push(Buffer.from(head)), []);
  assert.deepEqual(p.push(Buffer.from('a\r\n\r\n')), []);
  const msgs = p.push(Buffer.from('bc' + OPTIONS));
  assert.equal(msgs.length, 2);
  assert.ok(msgs[0]?.kind === 'request');
  assert.equal(msgs[0].body.toString(), 'a\r\n\r\nbc');
  assert.ok(msgs[1]?.kind === 'request' && msgs[1].method === 'OPTIONS');
});

test('bare LF line ends, folded headers and blank lines between messages are accepted', () => {
  const msgs = parseAll(['\r\n\r\nOPTIONS * RTSP/1.0\nCSeq: 7\nX-Long: a\n  b\n\n']);
  assert.equal(msgs.length, 1);
  assert.ok(msgs[0]?.kind === 'request');
  assert.equal(msgs[0].uri, '*');
  assert.equal(msgs[0].headers.get('x-long'), 'a b');
});

test('peer responses are framed too', () => {
  const msgs = parseAll([
    'RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: 2\r\n\r\nhi',
    frame(0, [5]),
  ]);
  assert.ok(msgs[0]?.kind === 'response');
  assert.equal(msgs[0].status, 200);
  assert.equal(msgs[0].body.toString(), 'hi');
  assert.ok(msgs[1]?.kind === 'interleaved');
});

test('garbage is refused as soon as it is seen and the parser stops', () => {
  const p = new RtspMessageParser(limits);
  const r = p.push(Buffer.from([0x00, 0x01, 0x02]));
  assert.equal(r.length, 1);
  assert.ok(r[0]?.kind === 'error' && r[0].status === 400);
  assert.ok(p.hasFailed);
  assert.deepEqual(p.push(Buffer.from(OPTIONS)), []);
});

test('a malformed request line is refused once the line is complete', () => {
  const p = new RtspMessageParser(limits);
  assert.deepEqual(p.push(Buffer.from('HELLO THERE')), []);
  const r = p.push(Buffer.from('\r\n'));
  assert.ok(r[0]?.kind === 'error' && r[0].status === 400);
  const http = parseAll(['GET / HTTP/1.1\r\nHost: x\r\n\r\n']);
  assert.ok(http[0]?.kind === 'error');
});

test('headers beyond maxHeaderBytes are refused without waiting for their end', () => {
  const p = new RtspMessageParser(limits);
  assert.deepEqual(p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n')), []);
  const r = p.push(Buffer.from(`X-Pad: ${'a'.repeat(2000)}`));
  assert.ok(r[0]?.kind === 'error' && r[0].status === 400, JSON.stringify(r[0]));
  assert.match(r[0].detail, /exceed/);
});

test('bad header lines and Content-Length values are refused, with the CSeq when known', () => {
  const bad = parseAll(['OPTIONS * RTSP/1.0\r\nCSeq: 4\r\nno colon here\r\n\r\n']);
  assert.ok(bad[0]?.kind === 'error' && bad[0].status === 400);
  const len = parseAll(['OPTIONS * RTSP/1.0\r\nCSeq: 4\r\nContent-Length: -1\r\n\r\n']);
  assert.ok(len[0]?.kind === 'error' && len[0].cseq === '4');
  const dup = parseAll(['OPTIONS * RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n']);
  assert.ok(dup[0]?.kind === 'error');
  const big = parseAll(['ANNOUNCE * RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 999999\r\n\r\n']);
  assert.ok(big[0]?.kind === 'error' && big[0].status === 413 && big[0].cseq === '9');
});

test('a body longer than declared leaves bytes that fail as the next message', () => {
  const msgs = parseAll([
    'SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 2\r\n\r\nabcdef\r\n\r\n',
  ]);
  assert.equal(msgs.length, 2);
  assert.ok(msgs[0]?.kind === 'request' && msgs[0].body.toString() === 'ab');
  assert.ok(msgs[1]?.kind === 'error');
});

test('remaining bytes are tracked while a message is incomplete', () => {
  const p = new RtspMessageParser(limits);
  p.push(Buffer.from([0x24, 0, 0, 10, 1, 2]));
  assert.equal(p.bufferedBytes, 6);
  const r = p.push(Buffer.from([3, 4, 5, 6, 7, 8, 9, 10]));
  assert.ok(r[0]?.kind === 'interleaved' && r[0].payload.length === 10);
  assert.equal(p.bufferedBytes, 0);
});

test('more header lines than maxHeaderCount fail the message', () => {
  const p = new RtspMessageParser({ ...limits, maxHeaderCount: 3 });
  const ok = p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nA: 1\r\nB: 2\r\n\r\n'));
  assert.equal(ok[0]?.kind, 'request');
  const bad = p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 2\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'));
  assert.equal(bad[0]?.kind, 'error');
  assert.match(bad[0]?.kind === 'error' ? bad[0].detail : '', /more than 3 header lines/);
});

test('partialMessage: true while a request waits for its rest, false for interleaved frames', () => {
  const p = new RtspMessageParser(limits);
  assert.equal(p.partialMessage, false);
  p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSe'));
  assert.equal(p.partialMessage, true);
  p.push(Buffer.from('q: 1\r\n\r\n'));
  assert.equal(p.partialMessage, false);
  p.push(Buffer.from('ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(p.partialMessage, true, 'waiting for the body');
  p.push(Buffer.from('defghij'));
  assert.equal(p.partialMessage, false);
  p.push(Buffer.from([0x24, 0, 0, 10, 1, 2]));
  assert.equal(p.partialMessage, false, 'a partial interleaved frame is not a request');
  assert.ok(p.bufferedBytes > 0);
});
