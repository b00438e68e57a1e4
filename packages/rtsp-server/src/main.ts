#!/usr/bin/env node
// Standalone entry: `node packages/rtsp-server/dist/main.js`. Configuration comes from the
// environment (see runStandalone); logs are JSON lines on stdout. The ops endpoint (`/healthz`,
// `/metrics`) listens on SIE_RTSP_OPS_PORT (default 9107).
import { createJsonLineLogger } from './json-logger.js';
import { runStandalone } from './standalone.js';

runStandalone().catch((err: unknown) => {
  createJsonLineLogger('error').error(
    { err: err instanceof Error ? err.message : String(err) },
    'rtsp server failed to start',
  );
  process.exit(1);
});
