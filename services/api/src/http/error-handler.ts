import { NotFoundError, SieError, UnavailableError, asSieError } from '@sie/errors';
import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable, isDiskFull } from '../db-errors.js';
import {
  InvalidJsonError,
  PayloadTooLargeError,
  RequestInvalidError,
  StorageFullError,
  UnsupportedMediaTypeError,
  type FieldIssue,
} from '../errors.js';
import { drainRefusedBody } from './linger.js';

/** The body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, string>;
  issues?: FieldIssue[];
}

/** HTTP status per stable error code; anything else is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  invalid_argument: 400,
  config_invalid: 400,
  invalid_json: 400,
  source_invalid: 400,
  model_error: 400,
  image_invalid: 400,
  not_found: 404,
  model_not_found: 404,
  snapshot_not_ready: 404,
  request_timeout: 408,
  conflict: 409,
  illegal_transition: 409,
  stale_run: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  header_too_large: 431,
  unavailable: 503,
  storage_full: 507,
  timeout: 504,
};

export function httpStatusFor(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/**
 * Errors Fastify and its plugins raise before a handler runs, as the SieError they mean. Their
 * own codes (FST_…) are implementation details; clients see sie's stable codes only.
 */
function fromFastify(err: FastifyError, bodyLimitBytes?: number): SieError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new InvalidJsonError(err.message, { cause: err });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return bodyLimitBytes === undefined
        ? new PayloadTooLargeError(err.message, undefined, { cause: err })
        : new PayloadTooLargeError(
            `request body is larger than ${bodyLimitBytes} bytes (http.bodyLimitBytes)`,
            bodyLimitBytes,
            { cause: err },
          );
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new PayloadTooLargeError(err.message, undefined, { cause: err });
    case 'FST_ERR_BAD_URL':
      return new RequestInvalidError(
        [{ path: 'url', message: 'malformed URL (bad percent-encoding)' }],
        {
          cause: err,
        },
      );
    case 'FST_PROTO_VIOLATION':
      return new RequestInvalidError([{ path: '', message: err.message }], { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new UnsupportedMediaTypeError(err.message, { cause: err });
    default:
      break;
  }
  if (err instanceof SyntaxError) return new InvalidJsonError(err.message, { cause: err });
  if (err.validation) {
    return new RequestInvalidError(
      err.validation.map((v) => ({
        path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: v.message ?? 'invalid',
      })),
      { cause: err },
    );
  }
  return undefined;
}

/**
 * Failures of the infrastructure under a request, as the stable error a client can act on: the
 * database down is `unavailable` (503, retry later), a full disk `storage_full` (507).
 */
function fromInfrastructure(err: unknown): SieError | undefined {
  if (err instanceof SieError) return undefined;
  if (isDatabaseUnavailable(err)) {
    return new UnavailableError('the database is unavailable; retry later', { cause: err });
  }
  if (isDiskFull(err)) {
    return new StorageFullError('no space left on the server to store this', { cause: err });
  }
  return undefined;
}

/** The JSON body and status of any thrown value. */
export function errorResponse(
  thrown: unknown,
  limits: { bodyLimitBytes?: number } = {},
): { status: number; body: ErrorBody } {
  const err = fromInfrastructure(thrown) ?? thrown;
  let e: SieError;
  let status: number;
  if (err instanceof SieError) {
    e = err;
    status = httpStatusFor(e.code);
  } else {
    const fastify = err as FastifyError;
    const mapped =
      typeof fastify?.code === 'string' || err instanceof SyntaxError
        ? fromFastify(fastify, limits.bodyLimitBytes)
        : undefined;
    e = mapped ?? asSieError(err);
    // Other client errors Fastify knows keep their status under a generic code.
    const known = fastify?.statusCode;
    status = mapped ? httpStatusFor(e.code) : known && known >= 400 && known < 500 ? known : 500;
    if (!mapped && status < 500) {
      return { status, body: { code: 'bad_request', message: (err as Error).message } };
    }
  }
  const body: ErrorBody = { code: e.code, message: e.message };
  if (status === 500) {
    // Internal failures may carry SQL or paths; the log has them, the client gets the code.
    body.message = 'internal error (see the api log)';
    return { status, body };
  }
  // Empty values (an error raised before its subject had an id) say nothing.
  const details = Object.fromEntries(Object.entries(e.details()).filter(([, v]) => v !== ''));
  if (Object.keys(details).length > 0) {
    body.details = details;
  }
  const issues = (e as { issues?: FieldIssue[] }).issues;
  if (Array.isArray(issues) && issues.length > 0) body.issues = issues;
  return { status, body };
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a request line or headers over
 * the size limit, a malformed request, a request that took too long), as raw HTTP with sie's
 * error body: clients get a stable code here too, not Fastify's `{error, statusCode}`.
 */
export function clientErrorResponse(errCode: string | undefined): string {
  const [status, reason, code, message] =
    errCode === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          'header_too_large',
          'request line and headers exceed the server limit',
        ]
      : errCode === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'the request was not received in time']
        : [400, 'Bad Request', 'bad_request', 'malformed HTTP request'];
  const body = JSON.stringify({ code, message } satisfies ErrorBody);
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** One error handler and one not-found handler: every error body is `{code, message, …}`. */
export function installErrorHandling(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorResponse(err, { bodyLimitBytes });
    // A request refused before its body was read (a large upload, bad metadata sent before the
    // file): fastify asks for `connection: close`, but closing on unread input resets the socket
    // and the client may never read this answer. Drain the rest for a while instead.
    if (status === 413 || !req.raw.complete) {
      reply.removeHeader('connection');
      drainRefusedBody(req.raw, reply.raw);
    }
    if (status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: body.code, status }, body.message);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = errorResponse(
      new NotFoundError('route', `${req.method} ${req.url.split('?')[0]}`),
    );
    return reply.code(status).send(body);
  });
}
