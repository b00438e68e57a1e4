import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SourceUnreachableError } from '@sie/errors';
import {
  OnvifClient,
  discoverOnvifDevices,
  parseProbeMatches,
  parseXml,
  passwordDigest,
  resolveOnvifStream,
  selectProfile,
  startTestOnvifDevice,
  withCredentials,
  type TestOnvifDevice,
} from './index.js';

const PROFILES = [
  {
    token: 'main',
    name: 'MainStream',
    width: 768,
    height: 576,
    streamUri: 'rtsp://127.0.0.1:8554/main',
  },
  {
    token: 'sub',
    name: 'SubStream',
    width: 320,
    height: 240,
    streamUri: 'rtsp://127.0.0.1:8554/sub',
  },
];

test('PasswordDigest is base64(sha1(nonce + created + password)) (WS-Security example)', () => {
  const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
  const created = '2010-09-16T07:50:45Z';
  const expected = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created + 'userpassword')]))
    .digest('base64');
  assert.equal(passwordDigest(nonce, created, 'userpassword'), expected);
  assert.equal(passwordDigest(nonce, created, 'userpassword'), 'tuOSpGlFlIXsozq4HFNeeGeFLEI=');
});

test('XML is read by local names, entities decoded, bad nesting refused', () => {
  const doc = parseXml('<a:x xmlns:a="u"><a:y k="1&amp;2">t &lt; u</a:y><z/></a:x>');
  const x = doc.children[0];
  assert.equal(x?.name, 'x');
  assert.equal(x?.children[0]?.attrs['k'], '1&2');
  assert.equal(x?.children[0]?.text, 't < u');
  assert.throws(() => parseXml('<a><b></a></b>'), /malformed/);
});

test('profiles are chosen by token, then name, else the first; credentials go into bare URIs', () => {
  const ps = PROFILES.map(({ token, name }) => ({ token, name }));
  assert.equal(selectProfile(ps, undefined)?.token, 'main');
  assert.equal(selectProfile(ps, 'sub')?.token, 'sub');
  assert.equal(selectProfile(ps, 'SubStream')?.token, 'sub');
  assert.equal(selectProfile(ps, 'nope'), undefined);
  assert.equal(
    withCredentials('rtsp://cam/x', { username: 'a b', password: 'p@ss' }),
    'rtsp://a%20b:p%40ss@cam/x',
  );
  assert.equal(
    withCredentials('rtsp://u:v@cam/x', { username: 'a', password: 'b' }),
    'rtsp://u:v@cam/x',
  );
});

test('ProbeMatches parse into devices with name and hardware from the scopes', () => {
  const devices = parseProbeMatches(
    '<s:Envelope xmlns:s="x" xmlns:d="d" xmlns:a="a"><s:Body><d:ProbeMatches><d:ProbeMatch>' +
      '<a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference>' +
      '<d:Scopes>onvif://www.onvif.org/name/Front%20Door onvif://www.onvif.org/hardware/X1</d:Scopes>' +
      '<d:XAddrs>http://10.0.0.5/onvif/device_service http://[fe80::1]/onvif/device_service</d:XAddrs>' +
      '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>',
  );
  assert.equal(devices.length, 1);
  assert.equal(devices[0]?.name, 'Front Door');
  assert.equal(devices[0]?.hardware, 'X1');
  assert.equal(devices[0]?.xaddrs.length, 2);
  assert.deepEqual(parseProbeMatches('garbage <'), []);
});

describe('against a test ONVIF device (real SOAP over HTTP)', () => {
  let device: TestOnvifDevice;
  before(async () => {
    // The camera's clock is an hour ahead: tokens signed with our clock alone would be refused.
    device = await startTestOnvifDevice({
      username: 'admin',
      password: 's3cret',
      profiles: PROFILES,
      clockOffsetMs: 3_600_000,
      discovery: true,
    });
  });
  after(() => device?.stop());

  const target = (password: string) => ({
    host: device.host,
    port: device.port,
    credentials: { username: 'admin', password },
  });

  test('resolves the first profile, its size and its stream URI with credentials added', async () => {
    const r = await resolveOnvifStream(target('s3cret'));
    assert.equal(r.profile.token, 'main');
    assert.equal(r.profile.width, 768);
    assert.deepEqual(
      r.profiles.map((p) => p.token),
      ['main', 'sub'],
    );
    assert.equal(r.uri, 'rtsp://admin:s3cret@127.0.0.1:8554/main');
    assert.deepEqual(device.calls.slice(-4), [
      'GetSystemDateAndTime',
      'GetCapabilities',
      'GetProfiles',
      'GetStreamUri',
    ]);
  });

  test('selects a profile by token or name; an unknown one is named with the choices', async () => {
    assert.equal(
      (await resolveOnvifStream(target('s3cret'), { profile: 'sub' })).uri,
      'rtsp://admin:s3cret@127.0.0.1:8554/sub',
    );
    assert.equal(
      (await resolveOnvifStream(target('s3cret'), { profile: 'SubStream' })).profile.height,
      240,
    );
    await assert.rejects(resolveOnvifStream(target('s3cret'), { profile: 'hd' }), (err: Error) => {
      assert.ok(err instanceof SourceUnreachableError);
      assert.match(
        err.message,
        /no ONVIF profile "hd" \(profiles: main \(MainStream\), sub \(SubStream\)\)/,
      );
      return true;
    });
  });

  test('a wrong password fails with a clear NotAuthorized reason that never shows the password', async () => {
    await assert.rejects(resolveOnvifStream(target('wrong-pw')), (err: Error) => {
      assert.ok(err instanceof SourceUnreachableError, String(err));
      assert.match(err.message, /ONVIF authentication failed \(NotAuthorized\)/);
      assert.doesNotMatch(err.message + JSON.stringify(err.toPayload()), /wrong-pw|s3cret/);
      return true;
    });
    assert.ok(device.refused.includes('GetCapabilities'));
  });

  test('SOAP faults are named by their subcode and reason', async () => {
    const client = new OnvifClient(target('s3cret'));
    await client.syncClock();
    assert.ok(Math.abs(client.clockSkewMs - 3_600_000) < 5000, String(client.clockSkewMs));
    await assert.rejects(
      client.getStreamUri('ghost'),
      /: ONVIF GetStreamUri failed \(NoProfile\): No such profile$/,
    );
  });

  test('a device that is not there is unreachable, saying so', async () => {
    const stopped = await startTestOnvifDevice({ username: 'a', password: 'b', profiles: [] });
    await stopped.stop();
    await assert.rejects(
      resolveOnvifStream({ host: '127.0.0.1', port: stopped.port }, { timeoutMs: 2000 }),
      /cannot reach the ONVIF device service \(GetSystemDateAndTime\): ECONNREFUSED/,
    );
  });

  test('WS-Discovery finds the device through a unicast Probe', async () => {
    const found = await discoverOnvifDevices({
      timeoutMs: 500,
      host: '127.0.0.1',
      port: device.discoveryPort,
    });
    assert.equal(found.length, 1);
    assert.equal(found[0]?.name, 'Test Camera');
    assert.deepEqual(found[0]?.xaddrs, [`http://127.0.0.1:${device.port}/onvif/device_service`]);
  });
});
