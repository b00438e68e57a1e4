// The image's entry point: `start.mjs <service> [args…]` runs one sie service (or the CLI) from
// the compiled workspace, so one image serves every container of the deployment.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRIES = {
  api: 'services/api/dist/main.js',
  scheduler: 'services/scheduler/dist/main.js',
  ingest: 'services/ingest/dist/main.js',
  inference: 'services/inference/dist/main.js',
  rules: 'services/rules/dist/main.js',
  render: 'services/render/dist/main.js',
  cli: 'packages/cli/dist/main.js',
};

const name = process.argv[2];
const entry = name === undefined ? undefined : ENTRIES[name];
if (!entry || !existsSync(join(root, entry))) {
  console.error(`usage: start.mjs <${Object.keys(ENTRIES).join('|')}> [args…]`);
  process.exit(2);
}
// The service sees its own arguments only (`--config <file>`, or the CLI's command line).
process.argv.splice(2, 1);
await import(pathToFileURL(join(root, entry)).href);
