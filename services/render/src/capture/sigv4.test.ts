/**
 * Published AWS SigV4 examples: the signature test suite (get-vanilla, post-vanilla,
 * get-vanilla-query-order-key-case; service "service", us-east-1, 2015-08-30) and the S3 header
 * authentication examples (GET object with Range, PUT object with a body; examplebucket).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_SHA256, amzDateOf, sha256Hex, signV4, uriEncode } from './sigv4.js';

const SUITE = {
  region: 'us-east-1',
  service: 'service',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  amzDate: '20150830T123600Z',
  payloadHash: EMPTY_SHA256,
};
const SUITE_HEADERS = { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' };

test('SigV4 test suite: get-vanilla', () => {
  const r = signV4({ ...SUITE, method: 'GET', path: '/', headers: SUITE_HEADERS });
  assert.equal(
    r.canonicalRequest,
    `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
  );
  assert.equal(
    r.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
      'SignedHeaders=host;x-amz-date, ' +
      'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  );
});

test('SigV4 test suite: post-vanilla', () => {
  const r = signV4({ ...SUITE, method: 'POST', path: '/', headers: SUITE_HEADERS });
  assert.equal(r.signature, '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
});

test('SigV4 test suite: get-vanilla-query-order-key-case (query sorted)', () => {
  const r = signV4({
    ...SUITE,
    method: 'GET',
    path: '/',
    query: { Param2: 'value2', Param1: 'value1' },
    headers: SUITE_HEADERS,
  });
  assert.equal(r.signature, 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
});

const S3 = {
  region: 'us-east-1',
  service: 's3',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  amzDate: '20130524T000000Z',
};

test('S3 example: GET object with a Range header', () => {
  const r = signV4({
    ...S3,
    method: 'GET',
    path: '/test.txt',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': S3.amzDate,
    },
    payloadHash: EMPTY_SHA256,
  });
  assert.equal(r.signedHeaders, 'host;range;x-amz-content-sha256;x-amz-date');
  assert.equal(r.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
});

test('S3 example: PUT object (encoded key, signed body hash)', () => {
  const hash = sha256Hex('Welcome to Amazon S3.');
  assert.equal(hash, '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
  const r = signV4({
    ...S3,
    method: 'PUT',
    path: `/${uriEncode('test$file.text', false)}`,
    headers: {
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-content-sha256': hash,
      'x-amz-date': S3.amzDate,
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    },
    payloadHash: hash,
  });
  assert.match(r.canonicalRequest, /^PUT\n\/test%24file\.text\n/);
  assert.equal(r.signature, '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
});

test('encoding and dates follow the SigV4 rules', () => {
  assert.equal(uriEncode('images/run 1/a+b.jpg', false), 'images/run%201/a%2Bb.jpg');
  assert.equal(uriEncode('a/b', true), 'a%2Fb');
  assert.equal(uriEncode('é~', true), '%C3%A9~');
  assert.equal(amzDateOf(new Date('2013-05-24T00:00:00.123Z')), '20130524T000000Z');
});
