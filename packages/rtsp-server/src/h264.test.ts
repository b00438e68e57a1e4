import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GopCache } from './gop-cache.js';
import { H264_NAL, h264NalStarts, isResumePoint, startsIdr } from './h264.js';
import { buildRtcpBye, parseRtpHeader, rtcpPacketType } from './rtp.js';
import {
  PPS,
  SPS,
  SyntheticStream,
  fuA,
  rtpPacket,
  singleNal,
  stapA,
} from './testing/synthetic.js';

const bit = (t: number): number => 1 << t;

test('single NAL unit packets report their own type', () => {
  assert.equal(h264NalStarts(singleNal(5)), bit(5));
  assert.equal(h264NalStarts(singleNal(1)), bit(1));
  assert.equal(h264NalStarts(singleNal(7)), bit(7));
  assert.ok(startsIdr(h264NalStarts(singleNal(5))));
  assert.ok(!startsIdr(h264NalStarts(singleNal(1))));
  assert.equal(h264NalStarts(Buffer.alloc(0)), 0);
});

test('STAP-A reports every aggregated unit, including an IDR inside', () => {
  assert.equal(h264NalStarts(stapA([SPS, PPS])), bit(7) | bit(8));
  const mask = h264NalStarts(stapA([SPS, PPS, singleNal(5, 30)]));
  assert.ok(startsIdr(mask));
  assert.ok(isResumePoint(mask));
  // A truncated aggregate reports what is whole and stops.
  const cut = stapA([SPS, singleNal(5, 30)]).subarray(0, 15);
  assert.equal(h264NalStarts(cut), bit(7));
});

test('STAP-B and MTAP skip their decoding-order fields', () => {
  const stapB = Buffer.concat([Buffer.from([0x79, 0, 1]), stapA([singleNal(5, 4)]).subarray(1)]);
  assert.equal(h264NalStarts(stapB), bit(5));
  const nal = singleNal(5, 4);
  const unit = Buffer.concat([Buffer.from([0, nal.length + 3, 0, 0, 0]), nal]);
  const mtap16 = Buffer.concat([Buffer.from([0x7a, 0, 0]), unit]);
  assert.equal(h264NalStarts(mtap16), bit(5));
});

test('FU-A reports its type only in the start fragment', () => {
  assert.equal(h264NalStarts(fuA(5, true, false)), bit(5));
  assert.equal(h264NalStarts(fuA(5, false, false)), 0);
  assert.equal(h264NalStarts(fuA(5, false, true)), 0);
  assert.equal(h264NalStarts(fuA(1, true, false)), bit(H264_NAL.slice));
  assert.equal(h264NalStarts(Buffer.from([0x7c])), 0);
});

test('RTP headers are parsed with CSRCs, extensions and padding', () => {
  const p = rtpPacket(
    { seq: 65535, timestamp: 0xfffffff0, marker: true, ssrc: 7 },
    Buffer.from([1, 2, 3]),
  );
  const h = parseRtpHeader(p);
  assert.deepEqual(h, {
    marker: true,
    payloadType: 96,
    sequenceNumber: 65535,
    timestamp: 0xfffffff0,
    ssrc: 7,
    payloadOffset: 12,
    payloadLength: 3,
  });
  const ext = Buffer.concat([
    p.subarray(0, 12),
    Buffer.from([0xbe, 0xde, 0, 1, 9, 9, 9, 9]),
    Buffer.from([5, 0, 0, 2]),
  ]);
  ext[0] = 0x80 | 0x10 | 0x20;
  const e = parseRtpHeader(ext);
  assert.equal(e?.payloadOffset, 20);
  assert.equal(e?.payloadLength, 2);
  assert.equal(parseRtpHeader(Buffer.alloc(11)), undefined);
  assert.equal(parseRtpHeader(Buffer.alloc(12)), undefined);
  assert.equal(rtcpPacketType(buildRtcpBye(1)), 203);
  assert.equal(rtcpPacketType(p), undefined);
});

function fill(cache: GopCache, s: SyntheticStream, pictures: number): void {
  for (let i = 0; i < pictures; i++) {
    for (const pkt of s.nextPicture().packets) {
      const h = parseRtpHeader(pkt);
      assert.ok(h);
      cache.push(0, pkt, true, h264NalStarts(pkt.subarray(h.payloadOffset)), h.timestamp);
    }
  }
}

test('the GOP cache starts at the parameter sets in front of the latest IDR', () => {
  const cache = new GopCache({ maxPackets: 1000, maxBytes: 1 << 20 });
  const s = new SyntheticStream(5);
  fill(cache, s, 12); // IDRs at pictures 0, 5, 10
  const snap = cache.snapshot();
  // Picture 10 (STAP-A + 3 FU-A) and picture 11 (one packet).
  assert.equal(snap.length, 5);
  const first = snap[0];
  assert.ok(first);
  assert.equal(h264NalStarts(first.packet.subarray(12)), bit(7) | bit(8));
  assert.ok(startsIdr(snap[1]?.nalMask ?? 0));
});

test('audio packets ride along and a GOP over the limits is dropped until the next IDR', () => {
  const cache = new GopCache({ maxPackets: 8, maxBytes: 1 << 20 });
  const s = new SyntheticStream(10);
  fill(cache, s, 1);
  cache.push(1, rtpPacket({ seq: 1, timestamp: 1 }, Buffer.from([0])), false, 0, 1);
  assert.equal(cache.packetCount, 5);
  fill(cache, s, 4); // 9 packets: over the limit
  assert.equal(cache.snapshot().length, 0);
  fill(cache, s, 6); // pictures 5..10; picture 10 is an IDR again
  assert.equal(cache.packetCount, 4);
});

test('nothing is cached before the first IDR', () => {
  const cache = new GopCache({ maxPackets: 100, maxBytes: 1 << 20 });
  const s = new SyntheticStream(4);
  s.frame = 1; // start mid-GOP
  fill(cache, s, 3);
  assert.equal(cache.packetCount, 0);
  fill(cache, s, 1);
  assert.equal(cache.packetCount, 4);
});
