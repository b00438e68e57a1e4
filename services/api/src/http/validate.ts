import type { z } from 'zod';
import { RequestInvalidError, type FieldIssue } from '../errors.js';

/**
 * Parses a request part with a strict schema. Every issue is reported with its full dotted path
 * (unknown keys each get their own entry), so a client fixes all of them in one round trip.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix = '',
): z.output<S> {
  const nul = unstorablePaths(value, prefix);
  const result = schema.safeParse(value);
  if (result.success && nul.length === 0) return result.data;
  const issues = result.success ? [] : issuesOf(result.error, prefix);
  for (const path of nul) {
    if (!issues.some((i) => i.path === path)) {
      issues.push({ path, message: 'contains a NUL character or an unpaired surrogate' });
    }
  }
  throw new RequestInvalidError(issues);
}

/** U+0000, or half of a surrogate pair: text Postgres cannot store as sent. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/** A place in a value: its key and its parent, so no path is built until one is reported. */
interface Place {
  key: string;
  parent: Place | undefined;
}

function pathOf(place: Place | undefined): string {
  const keys: string[] = [];
  for (let p = place; p; p = p.parent) keys.push(p.key);
  return keys.reverse().join('.');
}

/**
 * Paths of strings (values or keys) Postgres cannot store as sent: NUL fails the query (text and
 * jsonb refuse it) and an unpaired surrogate would silently come back as U+FFFD. Both are refused
 * as the client's error instead. Iterative and linear in the size of the value, so a body nested
 * a hundred thousand levels deep costs no more than a flat one of the same size.
 */
export function unstorablePaths(value: unknown, prefix = ''): string[] {
  const out: string[] = [];
  const root = prefix ? { key: prefix, parent: undefined } : undefined;
  const stack: [unknown, Place | undefined][] = [[value, root]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, place] = item;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) out.push(pathOf(place));
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([x, { key: String(i), parent: place }]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const child = { key: k, parent: place };
        if (UNSTORABLE.test(k)) out.push(pathOf(child));
        else stack.push([x, child]);
      }
    }
  }
  return out;
}

export function issuesOf(error: z.ZodError, prefix = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const join = (parts: PropertyKey[]): string =>
    [...(prefix ? [prefix] : []), ...parts.map(String)].join('.');
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: join([...issue.path, key]), message: 'unknown key' });
      }
    } else {
      issues.push({ path: join(issue.path), message: issue.message });
    }
  }
  return issues;
}
