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
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RequestInvalidError(issuesOf(result.error, prefix));
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
