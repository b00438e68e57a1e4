/**
 * POST /v1/sources/probe answers the same way for every kind of source, and
 * GET /v1/sources/discover lists ONVIF cameras, against the real API process: an RTSP camera,
 * a local web server (MP4, MJPEG, HLS), a test ONVIF device with WS-Discovery, a V4L2 URL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePort, freshDatabase, type TestDatabase } from '@sie/infra';
import { startTestOnvifDevice, type TestOnvifDevice } from '@sie/onvif';
import { asset, natsUrl } from './support/env.js';
import { makeHttpFixtures, startHttpMedia, type HttpMedia } from './support/http-media.js';
import { startTestCamera, type TestCamera } from './support/rtsp-camera.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

type Body = Record<string, unknown>;

let database: TestDatabase;
let work: string;
let api: ServiceProcess;
let base: string;
let camera: TestCamera;
let http: HttpMedia;
let device: TestOnvifDevice;

before(async () => {
  database = await freshDatabase();
  work = mkdtempSync(join(tmpdir(), 'sie-sources-api-'));
  const vtest = asset('media/vtest.avi');
  makeHttpFixtures(work, vtest);
  writeFileSync(
    join(work, 'evil.m3u8'),
    `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:2.0,\nfile://${join(work, 'seg0.ts')}\n#EXT-X-ENDLIST\n`,
  );
  http = await startHttpMedia(work, vtest);
  camera = await startTestCamera(vtest, 'probe');
  device = await startTestOnvifDevice({
    username: 'viewer',
    password: 'pa:ss/word',
    profiles: [{ token: 'p1', name: 'Main', width: 768, height: 576, streamUri: camera.url }],
    discovery: true,
  });
  const httpPort = await findFreePort();
  api = await startServiceProcess('api', {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl(),
    SIE_HTTP__PORT: String(httpPort),
    SIE_DATA_DIR: work,
    SIE_PROBE_TIMEOUT_MS: '30000',
    SIE_DISCOVERY__TARGET: `127.0.0.1:${device.discoveryPort}`,
    SIE_DISCOVERY__TIMEOUT_MS: '500',
  });
  base = `http://127.0.0.1:${httpPort}`;
});

after(async () => {
  await api?.stop();
  await Promise.all([camera?.stop(), http?.stop(), device?.stop()]);
  await database?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function probe(url: string): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${base}/v1/sources/probe`, {
    method: 'POST',
    body: JSON.stringify({ url }),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const onvif = (password: string): string =>
  `onvif://viewer:${encodeURIComponent(password)}@127.0.0.1:${device.port}/?profile=Main`;

test(
  'probe reports codec, size and fps the same way for every kind of source',
  { timeout: 120_000 },
  async () => {
    const expect = async (
      url: string,
      codec: string,
      width: number,
      height: number,
    ): Promise<Body> => {
      const r = await probe(url);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.reachable, true, `${url}: ${JSON.stringify(r.body)}`);
      assert.deepEqual([r.body.codec, r.body.width, r.body.height], [codec, width, height], url);
      assert.equal(typeof r.body.fps, 'number');
      return r.body;
    };
    await expect(asset('media/vtest.avi'), 'msmpeg4v3', 768, 576);
    await expect(camera.url, 'h264', 768, 576);
    assert.equal((await expect(`${http.base}/clip.mp4`, 'h264', 320, 240)).fps, 10);
    await expect(`${http.base}/mjpeg`, 'mjpeg', 768, 576);
    await expect(`${http.base}/index.m3u8`, 'h264', 640, 480);
    const viaOnvif = await expect(onvif('pa:ss/word'), 'h264', 768, 576);
    assert.equal(viaOnvif.resolvedUrl, camera.url.replace('rtsp://', 'rtsp://viewer:***@'));
  },
);

test('probe says why a source cannot be used, without passwords', { timeout: 60_000 }, async () => {
  const wrong = await probe(onvif('guess'));
  assert.equal(wrong.status, 200);
  assert.equal(wrong.body.reachable, false);
  assert.equal(wrong.body.code, 'source_unreachable');
  assert.match(String(wrong.body.reason), /ONVIF authentication failed \(NotAuthorized\)/);
  assert.doesNotMatch(JSON.stringify(wrong.body), /guess/);

  const evil = await probe(`${http.base}/evil.m3u8`);
  assert.deepEqual([evil.body.reachable, evil.body.code], [false, 'source_invalid']);
  assert.match(String(evil.body.reason), /refused: .* tries to open "file:"/);

  const gone = await probe(`http://127.0.0.1:${await findFreePort()}/cam.mjpeg`);
  assert.deepEqual([gone.body.reachable, gone.body.code], [false, 'source_unreachable']);

  const webcam = await probe('v4l2:///dev/video0');
  assert.equal(webcam.status, 400);
  assert.equal(webcam.body.code, 'source_invalid');
  assert.match(String(webcam.body.message), /capture devices are disabled/);
});

test('discover lists the ONVIF camera that answers WS-Discovery, with a source URL for it', async () => {
  const res = await fetch(`${base}/v1/sources/discover?timeoutMs=500`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { devices: Body[] };
  assert.equal(body.devices.length, 1);
  assert.equal(body.devices[0]?.name, 'Test Camera');
  assert.equal(body.devices[0]?.url, `onvif://127.0.0.1:${device.port}/`);
  const bad = await fetch(`${base}/v1/sources/discover?timeoutMs=999999`);
  assert.equal(bad.status, 400);
});
