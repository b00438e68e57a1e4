import type { z } from 'zod';
import { polygonDefect } from './geometry.js';
import type { Point } from './geometry.js';
import { ZONE_RULE_KINDS, ruleParamSchemas } from './rule-params.js';

type Path = (string | number)[];
type Kind = keyof typeof ruleParamSchemas;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const isPoint = (p: unknown): p is Point =>
  Array.isArray(p) &&
  p.length === 2 &&
  p.every((c) => typeof c === 'number' && Number.isFinite(c) && c >= 0 && c <= 1);
const isKind = (k: unknown): k is Kind =>
  typeof k === 'string' && Object.prototype.hasOwnProperty.call(ruleParamSchemas, k);

/**
 * Checks that one field cannot make on its own: simple polygons, unique ids, rules that name an
 * existing zone or line, and each kind's parameters. Every issue carries the offending field's
 * path (e.g. `rules.2.params.seconds`), so the API can name it.
 *
 * It runs even when the fields themselves already failed (`when: () => true` at the call site),
 * so a client sees every problem at once; it therefore reads the value defensively and leaves
 * malformed parts to the field schemas, never reporting a path twice.
 */
export function checkRules(value: unknown, ctx: z.RefinementCtx<unknown>): void {
  const reported = new Set(ctx.issues.map((i) => i.path?.join('.') ?? ''));
  const issue = (path: Path, message: string): void => {
    const key = path.join('.');
    if (reported.has(key)) return;
    reported.add(key);
    ctx.addIssue({ code: 'custom', path, message });
  };
  const v = record(value);
  const zones = list(v['zones']).map(record);
  const lines = list(v['lines']).map(record);
  const rules = list(v['rules']).map(record);
  for (const [name, items] of [
    ['zones', zones],
    ['lines', lines],
    ['rules', rules],
  ] as const) {
    const seen = new Set<unknown>();
    items.forEach((item, i) => {
      if (typeof item['id'] !== 'string') return;
      if (seen.has(item['id'])) issue([name, i, 'id'], `duplicate id '${item['id']}'`);
      seen.add(item['id']);
    });
  }
  zones.forEach((zone, i) => {
    const polygon = zone['polygon'];
    if (!Array.isArray(polygon) || polygon.length < 3 || !polygon.every(isPoint)) return;
    const defect = polygonDefect(polygon);
    if (defect) issue(['zones', i, 'polygon'], defect);
  });
  lines.forEach((line, i) => {
    const [a, b] = [line['a'], line['b']];
    if (isPoint(a) && isPoint(b) && a[0] === b[0] && a[1] === b[1]) {
      issue(['lines', i, 'b'], 'a line needs two different points');
    }
  });
  const zoneIds = new Set(zones.map((z) => z['id']));
  const lineIds = new Set(lines.map((l) => l['id']));
  rules.forEach((rule, i) => {
    const kind = rule['kind'];
    if (!isKind(kind)) return;
    const zoneKind = (ZONE_RULE_KINDS as readonly string[]).includes(kind);
    const [needed, unused] = zoneKind ? (['zone', 'line'] as const) : (['line', 'zone'] as const);
    const ref = rule[needed];
    const known = needed === 'zone' ? zoneIds : lineIds;
    if (ref === undefined) issue(['rules', i, needed], `a ${kind} rule needs a ${needed}`);
    else if (typeof ref === 'string' && !known.has(ref)) {
      issue(['rules', i, needed], `unknown ${needed} id '${ref}'`);
    }
    if (rule[unused] !== undefined) issue(['rules', i, unused], `a ${kind} rule has no ${unused}`);
    const params = rule['params'] ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return;
    const parsed = ruleParamSchemas[kind].safeParse(params);
    if (parsed.success) return;
    for (const p of parsed.error.issues) {
      const base: Path = ['rules', i, 'params', ...p.path.map((k) => String(k))];
      if (p.code === 'unrecognized_keys') {
        for (const key of p.keys) issue([...base, key], `not a parameter of ${kind}`);
      } else {
        issue(base, p.message);
      }
    }
  });
}
