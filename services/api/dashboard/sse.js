// Server-Sent Events over fetch: EventSource cannot send the tenant header, and a fetch reader
// resumes with Last-Event-ID after a drop just as EventSource would.

import { apiHeaders } from './api.js';

/** Parses one SSE block (the lines between blank lines); undefined for comments only. */
export function parseSseBlock(block) {
  let id;
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { id, event, data: data.join('\n') };
}

/**
 * Follows `url` until the returned function is called: `onEvent({id, event, data})` per event,
 * `onState('open' | 'retrying', detail)` as the connection comes and goes. After an error or the
 * end of the stream it waits `retryMs` and reconnects with the last event id seen.
 */
export function followSse(url, { onEvent, onState = () => {}, retryMs = 2000 }) {
  const ctrl = new AbortController();
  let lastId;
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const headers = apiHeaders({ accept: 'text/event-stream' });
        if (lastId !== undefined) headers['last-event-id'] = lastId;
        const res = await fetch(url, { headers, signal: ctrl.signal, cache: 'no-store' });
        if (!res.ok || !res.body) {
          let message = `HTTP ${res.status}`;
          try {
            message = (await res.json()).message || message;
          } catch {
            // not JSON: the status says enough
          }
          throw new Error(message);
        }
        onState('open');
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const ev = parseSseBlock(buf.slice(0, end));
            buf = buf.slice(end + 2);
            if (!ev) continue;
            if (ev.id !== undefined) lastId = ev.id;
            onEvent(ev);
          }
        }
        if (!stopped) onState('retrying', 'the stream ended');
      } catch (err) {
        if (stopped) return;
        onState('retrying', err instanceof Error ? err.message : String(err));
      }
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
  run().catch(() => undefined);
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
