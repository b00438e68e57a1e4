import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findRepoRoot } from '@sie/infra';

/** One fault or hostile input the suites tried, and what sie did about it. */
export interface ReliabilityRecord {
  /** `fault`: something broke (a process, a server, a camera); `input`: a client or peer sent something hostile. */
  suite: 'fault' | 'input';
  /** The class of fault or input, e.g. `kill -9 ingest` or `API body fuzz: POST /v1/runs`. */
  name: string;
  /** `recovered` (came back by itself), `rejected` (refused with a clear error), `failed-cleanly` (the run failed with the right reason, nothing else disturbed). */
  outcome: 'recovered' | 'rejected' | 'failed-cleanly';
  /** Time from the fault to full recovery, when it applies. */
  recoverMs?: number;
  /** What was lost: `none` is the only acceptable answer; anything else says what. */
  dataLost: string;
  /** One line of detail: counts, reasons, the limit that applied. */
  detail?: string;
}

/**
 * Where the records go: `SIE_RELIABILITY_LOG`, or `test/results/reliability.jsonl` in the repo.
 * docs/reliability.md is generated from this file, so the report is what the suite really saw.
 */
export function reliabilityLogPath(): string {
  return (
    process.env.SIE_RELIABILITY_LOG ?? join(findRepoRoot(), 'test', 'results', 'reliability.jsonl')
  );
}

/** Appends one record (a JSON line) for the report. Call it only after the assertions passed. */
export function recordReliability(record: ReliabilityRecord): void {
  const path = reliabilityLogPath();
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify({ ...record, at: new Date().toISOString() })}\n`);
}
