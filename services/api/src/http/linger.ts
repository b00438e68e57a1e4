import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a refused request's remaining body is read and discarded before the socket closes. */
export const LINGER_MS = 5_000;

/**
 * Lets the client read a refusal sent before its body was read (a 413 mid-upload, bad metadata
 * ahead of the file). Closing a socket that still has unread input makes the kernel answer with
 * RST; a client still writing then fails with EPIPE or ECONNRESET, often before it has read the
 * answer already in its receive buffer, so it never learns why. Like nginx's lingering close, the
 * rest of the body is read and dropped (never buffered) until the client stops sending or
 * `lingerMs` passes; a body that ends in time leaves a reusable keep-alive connection.
 */
export function drainRefusedBody(
  req: IncomingMessage,
  res: ServerResponse,
  lingerMs = LINGER_MS,
): void {
  res.once('finish', () => {
    if (req.complete) return;
    const socket = req.socket;
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    const stop = (): void => clearTimeout(timer);
    req.once('end', stop);
    socket.once('close', stop);
    req.resume();
  });
}
