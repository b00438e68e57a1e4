import type { ReasonCode } from '@sie/db';

/**
 * The run's reason code for an error code a stage reported (StageReport FAILED) or answered with
 * (a refused start). Source errors keep their meaning; a source that is not a video (or a
 * forbidden path) is unreachable as far as the client is concerned, and the message says why.
 */
export function reasonForErrorCode(code: string | undefined): ReasonCode {
  switch (code) {
    case 'source_unreachable':
    case 'source_invalid':
      return 'source_unreachable';
    case 'source_lost':
      return 'source_lost';
    case 'model_error':
    case 'model_not_found':
      return 'model_error';
    case 'config_invalid':
    case 'invalid_argument':
      return 'config_error';
    default:
      return 'internal_error';
  }
}

/** The human message stored with a failure: the stage's own message, with the stage named. */
export function failureMessage(
  stage: string,
  error: { code?: string; message?: string } | undefined,
): string {
  const code = error?.code || 'unknown';
  const text = error?.message || 'no message';
  const invalid =
    code === 'source_invalid' ? 'source is not a usable video (source_invalid): ' : '';
  return `${stage}: ${invalid}${text}`.slice(0, 2000);
}

/**
 * Whether a refused start can succeed elsewhere. A bad source, config or model fails on every
 * node, so the run fails at once; anything else (a full node, a timeout, no responder) is worth
 * another placement.
 */
export function isRecoverableRefusal(code: string | undefined): boolean {
  switch (code) {
    case 'source_invalid':
    case 'invalid_argument':
    case 'config_invalid':
    case 'model_not_found':
    case 'model_error':
      return false;
    default:
      return true;
  }
}

/**
 * Whether a failed LoadModel fails the run: the model itself (its file or its spec) is wrong and
 * no retry or other node can fix it. Anything else (inference down or slow, an internal error) is
 * a failed placement, tried again later.
 */
export function isModelFault(code: string | undefined): boolean {
  switch (code) {
    case 'model_error':
    case 'model_not_found':
    case 'invalid_argument':
    case 'config_invalid':
      return true;
    default:
      return false;
  }
}

/**
 * Whether a stage's failure is worth a restart of the run rather than its end: `unavailable`
 * means a dependency went away and came back without what the run needs (inference restarted
 * and lost the run's model), which the placement of a restart provides again.
 */
export function isRetryableFailure(code: string | undefined): boolean {
  return code === 'unavailable';
}
