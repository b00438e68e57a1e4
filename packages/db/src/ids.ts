import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@sie/errors';

/**
 * A new row id such as `run_0f8e…` (prefix, underscore, 32 hex digits of a random UUID). The prefix
 * makes ids self-describing in logs and NATS subjects; ids never need ordering (rows have
 * created_at), so a random UUID is enough.
 */
export function newId(prefix: string): string {
  if (!/^[a-z][a-z0-9]*$/.test(prefix)) {
    throw new InvalidArgumentError(`id prefix must be lowercase alphanumeric: ${prefix}`, 'prefix');
  }
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
