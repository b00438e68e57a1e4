import { SieError } from '@sie/errors';

/** One bad field of a rejected request, by dotted path (the API's `issues`). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** The body of every API error response. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: Record<string, string>;
  issues?: FieldIssue[];
}

/** The command line itself is wrong (unknown option, missing argument): exit code 2. */
export class UsageError extends SieError {
  readonly code = 'usage';
  constructor(
    message: string,
    /** The usage text of the command that was misused. */
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** The API answered with an error body; its stable code and field paths are kept as they came. */
export class ApiRequestError extends SieError {
  readonly code: string;
  readonly issues: FieldIssue[];
  readonly remoteDetails: Record<string, string>;
  constructor(
    readonly status: number,
    body: ApiErrorBody,
  ) {
    super(body.message);
    this.code = body.code;
    this.issues = body.issues ?? [];
    this.remoteDetails = body.details ?? {};
  }
  override details(): Record<string, string> {
    return { ...this.remoteDetails, status: String(this.status) };
  }
}

/** Nothing answered at the API's address (refused, unknown host, timeout). */
export class ApiUnreachableError extends SieError {
  readonly code = 'api_unreachable';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach the sie API at ${url} (${reason}); is it running? ` +
        'Point the CLI at it with --api <url> or SIE_API_URL.',
      options,
    );
  }
  override details(): Record<string, string> {
    return { url: this.url };
  }
}

/** A file the user gave (pipeline YAML, metadata, model) cannot be used. */
export class InputFileError extends SieError {
  readonly code = 'input_invalid';
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** `file:line:col` where known. */
  get where(): string {
    if (this.line === undefined) return this.file;
    return `${this.file}:${this.line}${this.column === undefined ? '' : `:${this.column}`}`;
  }
  override details(): Record<string, string> {
    return { file: this.file, ...(this.line === undefined ? {} : { line: String(this.line) }) };
  }
}
