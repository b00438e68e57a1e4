import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtspServer } from './server.js';
import { generationOfQuery, parseRequestUri } from './url.js';
import { RawRtspClient } from './testing/raw-client.js';
import { publishSynthetic, readTcp } from './testing/synthetic-clients.js';
import { h264Sdp } from './testing/synthetic.js';

test('the publisher generation comes from ?sie_gen=, also before a track control', () => {
  assert.equal(parseRequestUri('rtsp://h:1/run-1?sie_gen=3')?.generation, 3);
  assert.deepEqual(parseRequestUri('rtsp://h:1/run-1?sie_gen=3/streamid=0'), {
    path: 'run-1',
    authority: 'h:1',
    generation: 3,
  });
  assert.equal(parseRequestUri('rtsp://h:1/run-1')?.generation, undefined);
  assert.equal(generationOfQuery('a=1&sie_gen=x'), undefined);
});

test('a newer generation takes an occupied path over; an older or unstated one is refused', async () => {
  const server = new RtspServer({ port: 0 });
  const port = await server.start();
  try {
    const old = await publishSynthetic(port, 'moved?sie_gen=4');
    old.sendPictures(3);
    const reader = await readTcp(port, 'moved');
    const announce = async (query: string): Promise<number> => {
      const c = await RawRtspClient.connect(port);
      const res = await c.request(
        'ANNOUNCE',
        `rtsp://127.0.0.1:${port}/moved${query}`,
        { 'Content-Type': 'application/sdp' },
        h264Sdp(),
      );
      c.close();
      return res.status;
    };
    assert.equal(await announce(''), 455, 'a publisher that does not say');
    assert.equal(await announce('?sie_gen=4'), 455, 'the same generation');
    assert.equal(await announce('?sie_gen=3'), 455, 'an older one');

    const next = await publishSynthetic(port, 'moved?sie_gen=5');
    assert.ok(await old.client.waitClosed(3000), 'the old publisher is disconnected');
    assert.ok(await reader.client.waitClosed(3000), 'its readers reconnect to the new stream');
    next.sendPictures(3);
    const again = await readTcp(port, 'moved');
    assert.equal(server.paths().length, 1);
    assert.equal(server.paths()[0]?.readers, 1);
    // The old node's render restarting its encoder cannot take the path back.
    assert.equal(await announce('?sie_gen=4'), 455);
    again.client.close();
    next.client.close();
  } finally {
    await server.stop();
  }
});
