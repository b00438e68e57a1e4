#!/usr/bin/env node
/**
 * Runs every compiled test file of the workspace with node's test runner, against one real
 * Postgres and one real nats-server started here for the whole run (their URLs reach the tests as
 * DATABASE_URL and NATS_URL). Node 20's runner has no global setup hook, hence this wrapper.
 *
 *   node test/dist/run-tests.js [--faults] [file-or-dir-filter ...]
 *
 * The slow part of the fault suite (test/dist/faults/*.slow.test.js) runs only with `--faults`
 * or SIE_TEST_FAULTS=1; the fast fault files (`*.test.js` there) run with everything else. Each
 * run records its reliability results in a fresh JSONL file (SIE_RELIABILITY_LOG) whose path is
 * printed; `pnpm reliability:report` turns it into docs/reliability.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { findFreePort, findRepoRoot, startNats, startPostgres } from '@sie/infra';

const root = findRepoRoot();
const args = process.argv.slice(2);
const withSlowFaults = args.includes('--faults') || process.env.SIE_TEST_FAULTS === '1';
const filters = args.filter((a) => a !== '--faults');
const log = (line: string): void => void process.stderr.write(`[run-tests] ${line}\n`);

/** The closing line CI reads: `tests: N passed, N failed, N skipped` from the TAP totals. */
function printSummary(tap: string): void {
  let text = '';
  try {
    text = readFileSync(tap, 'utf8');
  } catch {
    return;
  }
  const total = (key: string): number => sum(text, key);
  process.stdout.write(
    `\ntests: ${total('pass')} passed, ${total('fail') + total('cancelled')} failed, ${total('skipped')} skipped\n`,
  );
}

function sum(text: string, key: string): number {
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))) n += Number(m[1]);
  return n;
}

function findTests(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (entry.endsWith('.test.js')) out.push(path);
  }
}

/** `test/dist/faults/….slow.test.js`: the long fault cases, run only when asked for. */
function isSlowFaultFile(rel: string): boolean {
  return rel.startsWith(join('test', 'dist', 'faults') + sep) && rel.endsWith('.slow.test.js');
}

/** A new `test/results/reliability-<time>.jsonl` for this run's records. */
function freshReliabilityLog(): string {
  const dir = join(root, 'test', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `reliability-${stamp}-${process.pid}.jsonl`);
}

const files: string[] = [];
for (const group of ['packages', 'services', 'deploy']) {
  for (const pkg of readdirSync(join(root, group))) {
    const dist = join(root, group, pkg, 'dist');
    try {
      findTests(dist, files);
    } catch {
      // Not built: the build step reports that, not the test runner.
    }
  }
}
findTests(join(root, 'test', 'dist'), files);
const selected = files
  .map((f) => relative(root, f))
  .filter((f) => withSlowFaults || !isSlowFaultFile(f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (selected.length === 0) {
  log('no test files found (did the build run?)');
  process.exit(1);
}

const reliabilityLog = process.env.SIE_RELIABILITY_LOG ?? freshReliabilityLog();
log(`reliability records → ${reliabilityLog}`);

const work = mkdtempSync(join(tmpdir(), 'sie-test-'));
log(`starting Postgres and nats-server under ${work}`);
const [pg, nats] = await Promise.all([
  startPostgres({ dataDir: join(work, 'pg'), port: await findFreePort() }),
  startNats({ port: await findFreePort(), storeDir: join(work, 'nats') }),
]);
log(`DATABASE_URL=${pg.url} NATS_URL=${nats.url}; ${selected.length} test files`);

const tapFile = join(work, 'results.tap');
const child = spawn(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${process.env.SIE_TEST_CONCURRENCY ?? '2'}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...selected,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      NATS_URL: nats.url,
      SIE_TEST_WORK_DIR: work,
      SIE_RELIABILITY_LOG: reliabilityLog,
    },
  },
);
const code = await new Promise<number>((resolve) =>
  child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))),
);
await Promise.allSettled([nats.stop(), pg.stop()]);
printSummary(tapFile);
process.stdout.write(`reliability records: ${reliabilityLog}\n`);
rmSync(work, { recursive: true, force: true });
process.exit(code);
