#!/usr/bin/env node
/**
 * Writes docs/reliability.md from the suites' JSONL records.
 *
 *   node test/dist/reliability-report.js [records.jsonl ...]
 *
 * Without arguments it reads every `test/results/reliability-*.jsonl` (and the default
 * `test/results/reliability.jsonl`), so a run of the fast part, one of the slow part and the
 * bad-input suites combine into one table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findRepoRoot } from '@sie/infra';
import {
  latestPerCase,
  parseRecords,
  renderReliabilityReport,
  type LoggedRecord,
} from './support/reliability-report-md.js';

const root = findRepoRoot();
const fail = (message: string): never => {
  process.stderr.write(`reliability-report: ${message}\n`);
  process.exit(1);
};

function defaultFiles(): string[] {
  const dir = join(root, 'test', 'results');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^reliability(-.*)?\.jsonl$/.test(f))
    .map((f) => join(dir, f))
    .sort();
}

const given = process.argv.slice(2).map((f) => resolve(f));
const files = given.length > 0 ? given : defaultFiles();
if (files.length === 0) fail('no records: run the suites first (test/results/ has no JSONL)');
const all: LoggedRecord[] = [];
for (const file of files) {
  const { records, problems } = parseRecords(readFileSync(file, 'utf8'));
  if (problems.length > 0) fail(`${file}: ${problems.join('; ')}`);
  all.push(...records);
}
const records = latestPerCase(all);
if (records.length === 0) fail(`no records in ${files.join(', ')}`);
const out = join(root, 'docs', 'reliability.md');
writeFileSync(
  out,
  renderReliabilityReport(records, {
    files: files.map((f) => relative(root, f)),
    generatedAt: new Date().toISOString(),
  }),
);
// The repository's formatter aligns the table, so `pnpm format:check` passes on the output.
const prettier = join(root, 'node_modules', '.bin', 'prettier');
if (existsSync(prettier)) execFileSync(prettier, ['--write', out], { stdio: 'ignore' });
process.stdout.write(
  `${relative(root, out)}: ${records.length} cases from ${files.length} file(s)\n`,
);
