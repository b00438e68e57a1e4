import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceInvalidError } from '@sie/errors';
import { parseSourceUrl, redactUrl } from './index.js';

const invalid = (url: string, why: RegExp, mediaRoot?: string): void => {
  assert.throws(
    () => parseSourceUrl(url, mediaRoot === undefined ? {} : { mediaRoot }),
    (e: unknown) =>
      e instanceof SourceInvalidError && e.code === 'source_invalid' && why.test(e.message),
    url,
  );
};

test('absolute paths and file URLs become file sources opened through the file protocol', () => {
  assert.deepEqual(parseSourceUrl('/media/a.mp4'), {
    kind: 'file',
    url: '/media/a.mp4',
    path: '/media/a.mp4',
    input: 'file:/media/a.mp4',
  });
  const fromUrl = parseSourceUrl('file:///media/my%20clip.mp4');
  assert.equal(fromUrl.kind, 'file');
  assert.equal(fromUrl.kind === 'file' && fromUrl.path, '/media/my clip.mp4');
  assert.equal(parseSourceUrl('/media//x/./a.mp4').input, 'file:/media/x/a.mp4');
});

test('rtsp and rtsps URLs are accepted as they are', () => {
  const s = parseSourceUrl('rtsp://user:pw@10.0.0.5:554/stream1');
  assert.equal(s.kind, 'rtsp');
  assert.equal(s.kind === 'rtsp' && s.scheme, 'rtsp');
  assert.equal(s.input, 'rtsp://user:pw@10.0.0.5:554/stream1');
  const tls = parseSourceUrl('RTSPS://cam.local/live');
  assert.equal(tls.kind === 'rtsp' && tls.scheme, 'rtsps');
});

test('other schemes, relative paths and traversal are refused, naming why', () => {
  invalid('concat:/etc/passwd|/etc/hosts', /scheme "concat:" is not allowed/);
  invalid('subfile,,start,0,end,0,,:/etc/passwd', /relative paths|not allowed/);
  invalid('subfile:/etc/passwd', /scheme "subfile:" is not allowed/);
  invalid('ftp://example.com/a.mp4', /scheme "ftp:"/);
  invalid('tcp://example.com:1', /scheme "tcp:"/);
  invalid('data:video/mp4;base64,AAAA', /scheme "data:"/);
  invalid('pipe:0', /scheme "pipe:"/);
  invalid('media/a.mp4', /relative paths are not allowed/);
  invalid('./a.mp4', /relative paths/);
  invalid('/media/../etc/passwd', /"\.\." path segments/);
  invalid('file:///media/../etc/passwd', /"\.\." path segments/);
  invalid('file:///media/%2e%2e/etc/passwd', /"\.\." path segments/);
  invalid('file://remotehost/share/a.mp4', /not a local file URL/);
  invalid('', /empty/);
  invalid('/media/a.mp4\n', /control characters/);
  invalid(' /media/a.mp4', /spaces/);
  invalid('rtsp:///nohost', /no host|not a valid URL/);
});

test('with a media root, only files under it are allowed (symbolic links resolved)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sie-media-root-'));
  mkdirSync(join(root, 'cams'));
  writeFileSync(join(root, 'cams', 'a.mp4'), 'x');
  const outside = mkdtempSync(join(tmpdir(), 'sie-outside-'));
  writeFileSync(join(outside, 'secret.mp4'), 'x');
  symlinkSync(join(outside, 'secret.mp4'), join(root, 'link.mp4'));

  assert.equal(parseSourceUrl(join(root, 'cams', 'a.mp4'), { mediaRoot: root }).kind, 'file');
  assert.equal(parseSourceUrl(`file://${root}/cams/missing.mp4`, { mediaRoot: root }).kind, 'file');
  invalid(join(outside, 'secret.mp4'), /under the media root/, root);
  invalid(join(root, 'link.mp4'), /under the media root/, root);
  invalid(`${root}-sibling/a.mp4`, /under the media root/, root);
  invalid(root, /under the media root/, root);
  // RTSP is not a file: the media root does not apply.
  assert.equal(parseSourceUrl('rtsp://cam/1', { mediaRoot: root }).kind, 'rtsp');
});

test('passwords never appear in error messages', () => {
  assert.equal(redactUrl('rtsp://admin:s3cret@cam:554/x'), 'rtsp://admin:***@cam:554/x');
  assert.equal(redactUrl('rtsp://cam/x'), 'rtsp://cam/x');
  assert.throws(
    () => parseSourceUrl('rtsp://admin:s3cret@cam/x\t'),
    (e: unknown) => e instanceof SourceInvalidError && !e.message.includes('s3cret'),
  );
});

test('http(s) URLs are progressive/MJPEG sources; .m3u8 and hls+ URLs are HLS', () => {
  assert.deepEqual(parseSourceUrl('http://cam.local/video.mjpg'), {
    kind: 'http',
    url: 'http://cam.local/video.mjpg',
    scheme: 'http',
    input: 'http://cam.local/video.mjpg',
  });
  assert.equal(parseSourceUrl('https://cdn.example/live/index.M3U8').kind, 'hls');
  const forced = parseSourceUrl('hls+https://cdn.example/live?id=3');
  assert.deepEqual([forced.kind, forced.input], ['hls', 'https://cdn.example/live?id=3']);
  invalid('http://', /no host|not a valid URL/);
  invalid('http://cam/a b', /spaces|not a valid/);
});

test('v4l2 devices and bare indexes need allowDevices; size, fps and format are checked', () => {
  invalid('v4l2:///dev/video0', /capture devices are disabled on this node/);
  invalid('0', /capture devices are disabled on this node/);
  const allow = { allowDevices: true };
  assert.deepEqual(parseSourceUrl('2', allow), {
    kind: 'v4l2',
    url: '2',
    device: '/dev/video2',
    input: '/dev/video2',
  });
  assert.deepEqual(parseSourceUrl('v4l2:///dev/video1?size=1280x720&fps=30&format=mjpeg', allow), {
    kind: 'v4l2',
    url: 'v4l2:///dev/video1?size=1280x720&fps=30&format=mjpeg',
    device: '/dev/video1',
    input: '/dev/video1',
    width: 1280,
    height: 720,
    fps: 30,
    pixelFormat: 'mjpeg',
  });
  assert.throws(() => parseSourceUrl('v4l2:///dev/sda', allow), /must be \/dev\/videoN/);
  assert.throws(() => parseSourceUrl('v4l2:///dev/video0/../sda', allow), /must be \/dev\/videoN/);
  assert.throws(() => parseSourceUrl('v4l2:///dev/video0?size=big', allow), /WIDTHxHEIGHT/);
  assert.throws(() => parseSourceUrl('v4l2:///dev/video0?format=-f%20x', allow), /pixel format/);
  assert.throws(() => parseSourceUrl('v4l2:///dev/video0?exec=1', allow), /unknown v4l2 option/);
});

test('onvif URLs name the camera, its credentials and an optional profile', () => {
  assert.deepEqual(parseSourceUrl('onvif://admin:p%40ss@10.0.0.7:8000/?profile=Profile_2'), {
    kind: 'onvif',
    url: 'onvif://admin:p%40ss@10.0.0.7:8000/?profile=Profile_2',
    host: '10.0.0.7',
    port: 8000,
    username: 'admin',
    password: 'p@ss',
    profile: 'Profile_2',
    input: '',
  });
  const plain = parseSourceUrl('onvif://[fe80::1]');
  assert.deepEqual(
    [plain.kind, plain.kind === 'onvif' && plain.host, plain.kind === 'onvif' && plain.port],
    ['onvif', 'fe80::1', 80],
  );
  invalid('onvif://cam/onvif/device_service', /names the camera only/);
  invalid('onvif://cam/?stream=2', /unknown onvif option/);
  assert.throws(
    () => parseSourceUrl('onvif://admin:topsecret@cam/?x=1'),
    (e: Error) => !e.message.includes('topsecret'),
  );
});

test('cloud metadata services are refused as sources; cameras on link-local addresses are not', () => {
  for (const url of [
    'http://169.254.169.254/latest/meta-data',
    'rtsp://169.254.169.254/x',
    'http://[fd00:ec2::254]/latest',
    'https://metadata.google.internal./computeMetadata/v1/',
    'onvif://169.254.170.2',
  ]) {
    assert.throws(() => parseSourceUrl(url), /metadata service/, url);
  }
  assert.equal(parseSourceUrl('rtsp://169.254.10.20/stream1').kind, 'rtsp');
  assert.equal(parseSourceUrl('onvif://169.254.10.20').kind, 'onvif');
});
