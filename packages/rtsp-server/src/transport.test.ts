import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTransport, parseTransportHeader, parseTransportSpec } from './transport.js';

test('TCP interleaved, as ffmpeg sends it for publishing', () => {
  const s = parseTransportSpec('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
  assert.deepEqual(s, {
    profile: 'RTP/AVP',
    lowerTransport: 'TCP',
    multicast: false,
    interleaved: { first: 0, second: 1 },
    mode: 'record',
  });
});

test('UDP unicast with client ports; the lower transport defaults to UDP', () => {
  const s = parseTransportSpec('RTP/AVP;unicast;client_port=5000-5001');
  assert.equal(s?.lowerTransport, 'UDP');
  assert.deepEqual(s?.clientPort, { first: 5000, second: 5001 });
  const u = parseTransportSpec('RTP/AVP/UDP;unicast;client_port=6970');
  assert.deepEqual(u?.clientPort, { first: 6970, second: 6971 });
});

test('alternatives are kept in order; quoted modes may contain commas', () => {
  const specs = parseTransportHeader(
    'RTP/AVP/TCP;unicast;interleaved=2-3;mode="PLAY,RECORD", RTP/AVP;multicast;ttl=16;destination=224.2.0.1',
  );
  assert.equal(specs.length, 2);
  assert.equal(specs[0]?.mode, 'play,record');
  assert.deepEqual(specs[0]?.interleaved, { first: 2, second: 3 });
  assert.equal(specs[1]?.multicast, true);
  assert.equal(specs[1]?.ttl, 16);
  assert.equal(specs[1]?.destination, '224.2.0.1');
});

test('unparseable specs are skipped, out-of-range numbers invalidate a spec', () => {
  assert.equal(parseTransportSpec('RAW/RAW/UDP;unicast'), undefined);
  assert.equal(parseTransportSpec('RTP/AVP/TCP;interleaved=300-301'), undefined);
  assert.equal(parseTransportSpec('RTP/AVP;client_port=0-1'), undefined);
  assert.equal(parseTransportSpec('RTP/AVP;client_port=abc'), undefined);
  const specs = parseTransportHeader('garbage, RTP/AVP/TCP;interleaved=4-5');
  assert.equal(specs.length, 1);
  assert.deepEqual(specs[0]?.interleaved, { first: 4, second: 5 });
  assert.equal(parseTransportSpec('rtp/avp/tcp;UNICAST;Interleaved=0-1')?.lowerTransport, 'TCP');
});

test('formatted answers round-trip', () => {
  const text = formatTransport({
    profile: 'RTP/AVP',
    lowerTransport: 'UDP',
    multicast: false,
    clientPort: { first: 5000, second: 5001 },
    serverPort: { first: 40000, second: 40001 },
  });
  assert.equal(text, 'RTP/AVP;unicast;client_port=5000-5001;server_port=40000-40001');
  assert.deepEqual(parseTransportSpec(text)?.serverPort, { first: 40000, second: 40001 });
  assert.equal(
    formatTransport({
      profile: 'RTP/AVP',
      lowerTransport: 'TCP',
      multicast: false,
      interleaved: { first: 0, second: 1 },
      mode: 'record',
    }),
    'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
  );
});
