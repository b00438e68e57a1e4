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
  invalid('http://example.com/a.mp4', /scheme "http:"/);
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
