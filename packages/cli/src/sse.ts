/** One Server-Sent Event. */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * Parses a text/event-stream body incrementally: `push` a chunk, get the complete events it
 * finished. Comments (`: keep-alive`) are skipped.
 */
export class SseParser {
  private buffer = '';
  private carry = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): SseMessage[] {
    let text = this.carry + this.decoder.decode(chunk, { stream: true });
    // A CR at the end may be the first half of a CRLF: wait for the next chunk.
    this.carry = text.endsWith('\r') ? '\r' : '';
    if (this.carry) text = text.slice(0, -1);
    this.buffer += text.replace(/\r\n?/g, '\n');
    const out: SseMessage[] = [];
    let end;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const msg: SseMessage = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') msg.id = value;
        else if (field === 'event') msg.event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length === 0) continue;
      msg.data = data.join('\n');
      out.push(msg);
    }
    return out;
  }
}

export interface FollowOptions {
  /** Opens the stream, resuming after `lastEventId` when given (throws on refusal). */
  open(lastEventId: string | undefined, signal: AbortSignal): Promise<Response>;
  onMessage(message: SseMessage): boolean | void;
  /** Told when the stream dropped and is being opened again. */
  onReconnect(reason: string, lastEventId: string | undefined): void;
  /** Whether an error of `open` is worth retrying (else it ends the follow). */
  retryable(err: unknown): boolean;
  signal: AbortSignal;
  maxBackoffMs?: number;
}

/**
 * Follows an SSE stream until the signal aborts or `onMessage` answers true: a stream that ends or
 * breaks is opened again with the last event id seen, after a backoff (0.5 s doubling to 5 s). The
 * first open is not retried: an API that is not there is reported at once.
 */
export async function followSse(o: FollowOptions): Promise<void> {
  let lastId: string | undefined;
  let backoff = 500;
  let opened = false;
  while (!o.signal.aborted) {
    let reason: string;
    try {
      const res = await o.open(lastId, o.signal);
      opened = true;
      backoff = 500;
      const parser = new SseParser();
      if (!res.body) throw new Error('no body');
      for await (const chunk of res.body) {
        for (const m of parser.push(chunk as Uint8Array)) {
          if (m.id !== undefined && m.id !== '') lastId = m.id;
          if (o.onMessage(m) === true) return;
        }
      }
      reason = 'the stream ended';
    } catch (err) {
      if (o.signal.aborted) return;
      if (!opened || !o.retryable(err)) throw err;
      reason = err instanceof Error ? err.message : String(err);
    }
    o.onReconnect(reason, lastId);
    await sleep(backoff, o.signal);
    backoff = Math.min(backoff * 2, o.maxBackoffMs ?? 5000);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
