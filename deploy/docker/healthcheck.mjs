/* global fetch, AbortSignal */
// HEALTHCHECK of the image: GET /healthz on the ops port of the service this container runs.
// The port is SIE_OPS__PORT when set, else the service's default, read from PID 1's arguments
// (`node start.mjs <service>`), so `docker run sie inference` is checked on the right port.
import { readFileSync } from 'node:fs';

const DEFAULT_OPS_PORTS = {
  api: 9100,
  ingest: 9101,
  inference: 9102,
  scheduler: 9103,
  rules: 9104,
  render: 9105,
};

function serviceOfPid1() {
  try {
    const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    return args.find((a) => a in DEFAULT_OPS_PORTS);
  } catch {
    return undefined;
  }
}

const port = process.env.SIE_OPS__PORT || DEFAULT_OPS_PORTS[serviceOfPid1() ?? 'api'];
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(2500),
  });
  if (!res.ok) console.error(`healthz ${res.status}: ${await res.text()}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`healthz on port ${port}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
