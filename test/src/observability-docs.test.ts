/**
 * The metrics documentation and the Grafana dashboard stay true to the code: every metric the
 * code registers is documented, and every metric the dashboard queries exists.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findRepoRoot } from '@sie/infra';

const root = findRepoRoot();

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts') && !e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const registered = new Set<string>();
for (const group of ['services', 'packages']) {
  for (const f of sources(join(root, group))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/name: '(sie_[a-z0-9_]+)'/g))
      registered.add(m[1] ?? '');
  }
}

test('every metric the code registers is documented in docs/metrics.md', () => {
  const doc = readFileSync(join(root, 'docs', 'metrics.md'), 'utf8');
  assert.ok(registered.size > 10, `found only ${registered.size} metrics`);
  const missing = [...registered].filter((m) => !doc.includes(`\`${m}\``));
  assert.deepEqual(missing, []);
});

test('every sie metric the Grafana dashboard queries is registered by the code', () => {
  const dash = readFileSync(join(root, 'deploy', 'grafana', 'sie-overview.json'), 'utf8');
  const used = new Set(
    [...dash.matchAll(/(sie_[a-z0-9_]+)/g)].map((m) =>
      (m[1] ?? '').replace(/_(bucket|sum|count)$/, ''),
    ),
  );
  const builtin = (m: string): boolean =>
    m.startsWith('sie_process_') || m.startsWith('sie_nodejs_');
  const unknown = [...used].filter(
    (m) => !builtin(m) && !registered.has(m) && m !== 'sie_overview',
  );
  assert.deepEqual(unknown, []);
});
