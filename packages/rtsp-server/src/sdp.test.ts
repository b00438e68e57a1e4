import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isH264, mediaCodecs, parseSdp, rewriteSdpForReaders } from './sdp.js';
import { parseRequestUri, resolveControlPath, splitTrackPath } from './url.js';

// What ffmpeg 5.1 ANNOUNCEs for one H.264 stream (plus an audio track for good measure).
const FFMPEG_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 59.27.100',
  'm=video 0 RTP/AVP 96',
  'b=AS:2000',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHtkAoEf+yA==,aM48gA==',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'c=IN IP4 239.1.1.1/16',
  'a=rtpmap:97 MPEG4-GENERIC/48000/2',
  'a=control:rtsp://10.0.0.5:8554/cam1/streamid=1',
  '',
].join('\r\n');

test('parses media sections, controls and rtpmaps', () => {
  const d = parseSdp(FFMPEG_SDP);
  assert.ok(d);
  assert.equal(d.media.length, 2);
  assert.equal(d.media[0]?.type, 'video');
  assert.equal(d.media[0]?.control, 'streamid=0');
  assert.deepEqual(d.media[0]?.rtpmap.get(96), { encoding: 'H264', clockRate: 90000 });
  assert.ok(d.media[0] && isH264(d.media[0]));
  assert.deepEqual(d.media[1] && mediaCodecs(d.media[1]), ['MPEG4-GENERIC']);
  assert.equal(d.media[1]?.rtpmap.get(97)?.channels, 2);
});

test('refuses text that is not a usable session description', () => {
  assert.equal(parseSdp('hello'), undefined);
  assert.equal(parseSdp('v=0\r\ns=x\r\n'), undefined);
  assert.equal(parseSdp('v=0\r\nm=video\r\n'), undefined);
});

test('readers get server-owned controls, neutral connection lines, everything else kept', () => {
  const out = rewriteSdpForReaders(FFMPEG_SDP);
  const lines = out.split('\r\n');
  assert.ok(out.endsWith('\r\n'));
  assert.deepEqual(
    lines.filter((l) => l.startsWith('a=control:')),
    ['a=control:*', 'a=control:trackID=0', 'a=control:trackID=1'],
  );
  // Session control closes the session section, media controls close their sections.
  assert.equal(lines[lines.indexOf('m=video 0 RTP/AVP 96') - 1], 'a=control:*');
  assert.equal(lines[lines.indexOf('m=audio 0 RTP/AVP 97') - 1], 'a=control:trackID=0');
  assert.ok(!out.includes('239.1.1.1'));
  assert.ok(!out.includes('127.0.0.1\r\nt='));
  assert.ok(lines.includes('c=IN IP4 0.0.0.0'));
  assert.ok(out.includes('sprop-parameter-sets=Z0LAHtkAoEf+yA==,aM48gA=='));
  assert.ok(out.includes('b=AS:2000'));
  const again = parseSdp(out);
  assert.equal(again?.media[1]?.control, 'trackID=1');
});

test('request URIs become paths; controls resolve against the stream path', () => {
  assert.deepEqual(parseRequestUri('rtsp://127.0.0.1:8554/cam1/'), {
    path: 'cam1',
    authority: '127.0.0.1:8554',
  });
  assert.deepEqual(parseRequestUri('rtsp://user:pw@[::1]:554/a/b?x=1'), {
    path: 'a/b',
    authority: '[::1]:554',
  });
  assert.deepEqual(parseRequestUri('*'), { path: '' });
  assert.deepEqual(parseRequestUri('/cam%201'), { path: 'cam 1' });
  assert.equal(parseRequestUri('http://h/x'), undefined);
  assert.equal(parseRequestUri('rtsp://h/%E0%A4%A'), undefined);
  assert.equal(parseRequestUri('rtsp://h/a%0Ab'), undefined);

  assert.equal(resolveControlPath('cam1', 'streamid=0'), 'cam1/streamid=0');
  assert.equal(resolveControlPath('cam1', 'rtsp://10.0.0.5/cam1/streamid=1'), 'cam1/streamid=1');
  assert.equal(resolveControlPath('cam1', '*'), 'cam1');
  assert.equal(resolveControlPath('cam1', undefined), 'cam1');
  assert.equal(resolveControlPath('cam1', '/other/x'), 'other/x');
  assert.deepEqual(splitTrackPath('site/cam1/trackID=2'), { path: 'site/cam1', track: 2 });
  assert.equal(splitTrackPath('cam1'), undefined);
});
