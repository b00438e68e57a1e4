#!/usr/bin/env node
import { runCli } from './cli.js';

// Ctrl-C ends long-running commands (events tail, node drain --wait) cleanly, exit code 0.
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => controller.abort());
}
process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env },
  controller.signal,
);
// An aborted stream may leave sockets behind; the answer is given, so leave.
process.exit();
