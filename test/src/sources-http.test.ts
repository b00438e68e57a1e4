/**
 * HTTP(S) sources through the real ffprobe/ffmpeg: progressive MP4, live MJPEG
 * (multipart/x-mixed-replace) and HLS made by ffmpeg in the test, served by a local web server;
 * and the rules that keep a source URL from reaching the local disk.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SieError, SourceInvalidError } from '@sie/errors';
import { buildDecodeArgs, decodeArgv, parseSourceUrl, probeSource } from '@sie/media';
import { asset } from './support/env.js';
import { makeHttpFixtures, startHttpMedia, type HttpMedia } from './support/http-media.js';

const PROBE_MS = 30_000;

describe('HTTP and HLS sources (real ffmpeg, local web server)', () => {
  let work: string;
  let served: string;
  let secret: string;
  let http: HttpMedia;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'sie-sources-http-'));
    served = join(work, 'www');
    secret = join(work, 'secret');
    mkdirSync(served);
    mkdirSync(secret);
    const vtest = asset('media/vtest.avi');
    makeHttpFixtures(served, vtest);
    // A real, decodable segment outside the served folder: if a playlist could make ffmpeg read
    // it, the probe would succeed.
    copyFileSync(join(served, 'seg0.ts'), join(secret, 'seg0.ts'));
    const playlist = (entry: string): string =>
      `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.0,\n${entry}\n#EXT-X-ENDLIST\n`;
    writeFileSync(join(served, 'evil-file.m3u8'), playlist(`file://${join(secret, 'seg0.ts')}`));
    writeFileSync(join(served, 'evil-abs.m3u8'), playlist(join(secret, 'seg0.ts')));
    writeFileSync(join(served, 'evil-concat.m3u8'), playlist(`concat:${join(secret, 'seg0.ts')}`));
    http = await startHttpMedia(served, vtest);
  });

  after(async () => {
    await http?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('progressive MP4 over HTTP: probe gives codec, size and frame rate; it decodes', async () => {
    const src = parseSourceUrl(`${http.base}/clip.mp4`);
    assert.equal(src.kind, 'http');
    const r = await probeSource(src, PROBE_MS);
    assert.deepEqual([r.codec, r.width, r.height, r.fps], ['h264', 320, 240, 10]);
  });

  test('live MJPEG (multipart/x-mixed-replace) over HTTP probes as mjpeg at the camera size', async () => {
    const r = await probeSource(parseSourceUrl(`${http.base}/mjpeg`), PROBE_MS);
    assert.equal(r.codec, 'mjpeg');
    assert.deepEqual([r.width, r.height], [768, 576]);
  });

  test('an HLS playlist of segments ffmpeg made probes through the hls demuxer', async () => {
    const src = parseSourceUrl(`${http.base}/index.m3u8`);
    assert.equal(src.kind, 'hls');
    assert.ok(readdirSync(served).filter((f) => f.endsWith('.ts')).length >= 2);
    const r = await probeSource(src, PROBE_MS);
    assert.deepEqual([r.codec, r.width, r.height], ['h264', 640, 480]);
    assert.ok(http.requests.includes('/seg0.ts'), 'the segments came over HTTP');
    // hls+http:// forces HLS for playlists whose URL does not end in .m3u8.
    assert.equal(parseSourceUrl(`hls+${http.base}/index.m3u8?token=1`).kind, 'hls');
  });

  for (const [name, proto] of [
    ['evil-file.m3u8', 'file'],
    ['evil-concat.m3u8', 'concat'],
  ] as const) {
    test(`an HLS playlist with a ${proto}: segment is refused with a clear reason; the file is never read`, async () => {
      const err = await probeSource(parseSourceUrl(`${http.base}/${name}`), PROBE_MS).then(
        () => assert.fail('the probe read a local file through the playlist'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SourceInvalidError, String(err));
      assert.match(
        err.message,
        new RegExp(`refused: .* tries to open "${proto}:", which hls sources may not use`),
      );
    });
  }

  test('an HLS playlist naming an absolute local path fetches it from the web server, not the disk', async () => {
    const err = await probeSource(parseSourceUrl(`${http.base}/evil-abs.m3u8`), PROBE_MS).then(
      () => assert.fail('the probe read a local file through the playlist'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SieError, String(err));
    assert.ok(http.requests.includes(join(secret, 'seg0.ts')), 'the entry was asked of the server');
  });

  test('decode arguments carry a protocol whitelist per kind and force the hls demuxer', () => {
    const argv = (url: string): string =>
      decodeArgv(buildDecodeArgs(parseSourceUrl(url), { width: 8, height: 8 })).join(' ');
    assert.match(argv(`${http.base}/clip.mp4`), /-protocol_whitelist http,https,tcp,tls -i http/);
    assert.match(
      argv(`${http.base}/index.m3u8`),
      /-protocol_whitelist http,https,tcp,tls,crypto -f hls -i http/,
    );
  });

  test('unreachable HTTP sources say so; other schemes and traversal are refused up front', async () => {
    await http.stop();
    try {
      await assert.rejects(
        probeSource(parseSourceUrl(`${http.base}/clip.mp4`), PROBE_MS),
        (e: Error) => {
          assert.ok(e instanceof SieError && e.code === 'source_unreachable', String(e));
          assert.match(e.message, /refused/i);
          return true;
        },
      );
    } finally {
      await http.start();
    }
    for (const url of [
      'concat:/a.mp4|/b.mp4',
      'subfile:,,start,0,end,0,,:/etc/passwd',
      'pipe:0',
      'ftp://h/a.mp4',
      'file:///media/../etc/passwd',
      'tcp://h:1',
      'data:video/mp4;base64,AAAA',
    ]) {
      assert.throws(() => parseSourceUrl(url), SourceInvalidError, url);
    }
  });

  test('V4L2: refused unless allowed; opened with size/fps/format when the machine has a device', async (t) => {
    assert.throws(() => parseSourceUrl('v4l2:///dev/video0'), /capture devices are disabled/);
    assert.throws(() => parseSourceUrl('0'), /capture devices are disabled/);
    const webcam = parseSourceUrl('v4l2:///dev/video0?size=640x480&fps=15&format=mjpeg', {
      allowDevices: true,
    });
    assert.match(
      decodeArgv(buildDecodeArgs(webcam, { width: 8, height: 8 })).join(' '),
      /-f v4l2 -video_size 640x480 -framerate 15 -input_format mjpeg -i \/dev\/video0/,
    );
    const device = ['/dev/video0', '/dev/video1'].find((d) => existsSync(d));
    if (!device) {
      t.skip('no V4L2 device on this machine (/dev/video* is absent)');
      process.stdout.write('# skipped V4L2 capture: no /dev/video* device on this machine\n');
      return;
    }
    const r = await probeSource(
      parseSourceUrl(device.replace('/dev/video', ''), { allowDevices: true }),
      PROBE_MS,
    );
    assert.ok(r.width > 0 && r.height > 0);
  });
});
