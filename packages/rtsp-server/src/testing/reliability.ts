import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findRepoRoot } from '@sie/infra';

/**
 * Records one class of hostile input the RTSP server refused, as the same JSON line
 * `test/src/support/reliability-log.ts` writes (`SIE_RELIABILITY_LOG`, or
 * `test/results/reliability.jsonl`), so docs/reliability.md covers the package's suites too. Call
 * it only after the assertions passed.
 */
export function recordRejectedInput(name: string, detail: string): void {
  const path =
    process.env.SIE_RELIABILITY_LOG ?? join(findRepoRoot(), 'test', 'results', 'reliability.jsonl');
  mkdirSync(dirname(path), { recursive: true });
  const record = { suite: 'input', name, outcome: 'rejected', dataLost: 'none', detail };
  appendFileSync(path, `${JSON.stringify({ ...record, at: new Date().toISOString() })}\n`);
}
