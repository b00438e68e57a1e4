import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageDecodeError, ModelNotFoundError, NotFoundError, UnavailableError } from '@sie/errors';
import { ConflictError, RequestInvalidError } from '../errors.js';
import { clientErrorResponse, errorResponse } from './error-handler.js';

test('sie errors keep their code, with an HTTP status of their own', () => {
  assert.deepEqual(errorResponse(new RequestInvalidError([{ path: 'a.b', message: 'bad' }])), {
    status: 400,
    body: {
      code: 'invalid_argument',
      message: 'invalid request: a.b: bad',
      details: { paths: 'a.b' },
      issues: [{ path: 'a.b', message: 'bad' }],
    },
  });
  assert.equal(errorResponse(new ImageDecodeError('not an image')).status, 400);
  assert.equal(errorResponse(new ModelNotFoundError('m')).status, 404);
  assert.equal(errorResponse(new NotFoundError('run', 'r')).status, 404);
  assert.equal(errorResponse(new ConflictError('in use')).status, 409);
  assert.equal(errorResponse(new UnavailableError('down')).status, 503);
});

test('Fastify parser errors become sie codes; unknown failures hide their text', () => {
  const invalidJson = Object.assign(new Error('Body is not valid JSON'), {
    code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    statusCode: 400,
  });
  assert.equal(errorResponse(invalidJson).body.code, 'invalid_json');
  const tooLarge = Object.assign(new Error('Request body is too large'), {
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    statusCode: 413,
  });
  assert.deepEqual(errorResponse(tooLarge).status, 413);
  const internal = errorResponse(new Error('relation "secret_table" does not exist'));
  assert.equal(internal.status, 500);
  assert.equal(internal.body.code, 'internal_error');
  assert.doesNotMatch(internal.body.message, /secret_table/);
});

test('a database that is down is a 503 unavailable; a full disk a 507 storage_full', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
    code: 'ECONNREFUSED',
  });
  // drizzle wraps the driver's error; the cause chain is followed.
  const wrapped = new Error('Failed query: select 1', { cause: refused });
  assert.deepEqual(errorResponse(wrapped), {
    status: 503,
    body: { code: 'unavailable', message: 'the database is unavailable; retry later' },
  });
  const shutdown = Object.assign(new Error('terminating connection'), { code: '57P01' });
  assert.equal(errorResponse(shutdown).status, 503);
  assert.equal(errorResponse(new Error('Connection terminated unexpectedly')).status, 503);
  const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  assert.equal(errorResponse(full).status, 507);
  assert.equal(errorResponse(full).body.code, 'storage_full');
  // Other failures stay internal errors.
  assert.equal(errorResponse(new Error('boom')).status, 500);
});

test('parser-level refusals get sie codes too', () => {
  const raw = clientErrorResponse('HPE_HEADER_OVERFLOW');
  assert.match(raw, /^HTTP\/1\.1 431 /);
  assert.match(raw, /connection: close/i);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  assert.equal((JSON.parse(body) as { code: string }).code, 'header_too_large');
  assert.match(
    clientErrorResponse('HPE_INVALID_METHOD'),
    /^HTTP\/1\.1 400 [^]*"code":"bad_request"/,
  );
  const badUrl = Object.assign(new Error("'/%zz' is not a valid url component"), {
    code: 'FST_ERR_BAD_URL',
    statusCode: 400,
  });
  const r = errorResponse(badUrl);
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'invalid_argument');
  assert.deepEqual(
    r.body.issues?.map((i) => i.path),
    ['url'],
  );
});
