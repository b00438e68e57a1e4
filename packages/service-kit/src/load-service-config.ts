import { loadConfig } from '@sie/config';
import type { z } from 'zod';
import { BASE_ENV_ALIASES } from './base-config.js';

export interface ServiceConfigOptions {
  /** Environment to read (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Arguments to read `--config <file>` from (defaults to process.argv). */
  argv?: readonly string[];
  /** Refuse `SIE_*` variables that are no key of this service (deployment checks). */
  rejectUnknownEnv?: boolean;
}

/**
 * A service's config the way its process loads it: schema defaults, file, environment with the
 * shared well-known variables (NATS_URL, SIE_NODE_ID, …) plus the service's own aliases.
 */
export function loadServiceConfig<S extends z.ZodType>(
  schema: S,
  envAliases: Record<string, string> | undefined,
  options: ServiceConfigOptions = {},
): z.output<S> {
  return loadConfig({
    schema,
    envAliases: { ...BASE_ENV_ALIASES, ...envAliases },
    ...(options.env ? { env: options.env } : {}),
    ...(options.argv ? { argv: options.argv } : {}),
    ...(options.rejectUnknownEnv ? { rejectUnknownEnv: true } : {}),
  });
}
