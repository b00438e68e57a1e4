import type { ReliabilityRecord } from './reliability-log.js';

/** One line of the JSONL log: a record and when it was written. */
export type LoggedRecord = ReliabilityRecord & { at: string };

export interface ReportSource {
  /** The JSONL files read, as shown in the report (repo-relative). */
  files: string[];
  /** When the report was generated (ISO). */
  generatedAt: string;
}

const SUITE_ORDER: Record<ReliabilityRecord['suite'], number> = { fault: 0, input: 1 };

/**
 * Parses JSONL text; lines that are not records are returned as problems, never silently
 * dropped, so a report cannot look complete when the log is damaged.
 */
export function parseRecords(text: string): { records: LoggedRecord[]; problems: string[] } {
  const records: LoggedRecord[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = JSON.parse(line) as Partial<LoggedRecord>;
      if (
        (r.suite === 'fault' || r.suite === 'input') &&
        typeof r.name === 'string' &&
        typeof r.outcome === 'string' &&
        typeof r.dataLost === 'string' &&
        typeof r.at === 'string'
      ) {
        records.push(r as LoggedRecord);
      } else problems.push(`line ${i + 1}: not a reliability record`);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
    }
  });
  return { records, problems };
}

/** The newest record per (suite, name): a later run of a case replaces an earlier one. */
export function latestPerCase(records: LoggedRecord[]): LoggedRecord[] {
  const byKey = new Map<string, LoggedRecord>();
  for (const r of records) {
    const key = `${r.suite}\u0000${r.name}`;
    const prev = byKey.get(key);
    if (!prev || prev.at <= r.at) byKey.set(key, r);
  }
  return [...byKey.values()].sort(
    (a, b) => SUITE_ORDER[a.suite] - SUITE_ORDER[b.suite] || a.at.localeCompare(b.at),
  );
}

/** `12345` → `12.3 s`; absent → `—`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** docs/reliability.md from the records (already reduced with latestPerCase). */
export function renderReliabilityReport(records: LoggedRecord[], source: ReportSource): string {
  const lost = records.filter((r) => r.dataLost !== 'none');
  const times = records.map((r) => r.at).sort();
  const lines = [
    '# Reliability report',
    '',
    'Every fault and hostile input the automated suites tried, and what sie did about it. This',
    'file is generated: do not edit it by hand.',
    '',
    `- Cases: ${records.length} (${records.filter((r) => r.suite === 'fault').length} faults, ${records.filter((r) => r.suite === 'input').length} input classes); data lost: ${lost.length === 0 ? '**none**' : `**${lost.length} case(s)**`}.`,
    '- Outcomes: `recovered` came back by itself; `rejected` was refused with a clear error;',
    '  `failed-cleanly` ended the run with the right reason and disturbed nothing else.',
    '- Time to recover: from the fault to the moment the condition the case checks held again',
    '  (e.g. every run delivering frames), measured by the test on a busy 2-core machine.',
    '',
    '| suite | fault / input class | outcome | time to recover | data lost | detail |',
    '| ----- | ------------------- | ------- | --------------- | --------- | ------ |',
    ...records.map(
      (r) =>
        `| ${r.suite} | ${cell(r.name)} | ${r.outcome} | ${formatDuration(r.recoverMs)} | ${cell(r.dataLost)} | ${cell(r.detail ?? '')} |`,
    ),
    '',
    '## How this was produced',
    '',
    'The fault suite (`test/src/faults/`) runs sie as real processes (Postgres, nats-server, the',
    'six services, the RTSP server, RTSP cameras) and breaks them: `pnpm test` runs its fast part,',
    '`pnpm test:faults` all of it. The bad-input suites send hostile requests and streams. Each',
    'case appends one JSON line with `recordReliability()` (test/src/support/reliability-log.ts)',
    'only after its assertions passed; the test runner gives every run a fresh log file and',
    'prints its path. `pnpm reliability:report [files…]` then writes this file (the newest',
    'record of each case wins when several runs are combined).',
    '',
    `- Generated: ${source.generatedAt}`,
    `- Records written: ${times[0] ?? '—'} … ${times[times.length - 1] ?? '—'}`,
    `- From: ${source.files.map((f) => `\`${f}\``).join(', ') || '—'}`,
    '',
  ];
  return lines.join('\n');
}
