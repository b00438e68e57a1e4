import type { Handler } from './context.js';

export const PUBLIC_METHODS = [
  'OPTIONS',
  'DESCRIBE',
  'ANNOUNCE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'RECORD',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
].join(', ');

export const handleOptions: Handler = (ctx) => ({
  status: 200,
  headers: [['Public', PUBLIC_METHODS]],
  ...(ctx.session ? { session: ctx.session } : {}),
});

/** Clients send it as a keep-alive; the server has no parameters to report. */
export const handleGetParameter: Handler = (ctx) => ({
  status: 200,
  ...(ctx.session ? { session: ctx.session } : {}),
});

/** An empty SET_PARAMETER is a keep-alive too; real parameters are not understood. */
export const handleSetParameter: Handler = (ctx) => ({
  status: ctx.req.body.length === 0 ? 200 : 451,
  ...(ctx.session ? { session: ctx.session } : {}),
});

export const handleTeardown: Handler = (ctx) => {
  const { session, conn, registry } = ctx;
  if (session) {
    registry.endSession(session, 'teardown', false);
    return { status: 200, session };
  }
  // A publisher may give up between ANNOUNCE and SETUP: free the path it reserved.
  if (conn.announced && !conn.announced.closed && !conn.announced.publisherSessionId) {
    registry.closePath(conn.announced, 'teardown before setup');
    conn.announced = undefined;
    return { status: 200 };
  }
  return { status: 454 };
};
