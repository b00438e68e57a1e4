import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help, e.g. `<id>`. */
  value?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Options every command takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  api: {
    type: 'string',
    value: '<url>',
    description: 'API base URL (env SIE_API_URL, default http://127.0.0.1:8080)',
  },
  tenant: {
    type: 'string',
    value: '<id>',
    description: 'Tenant, sent as x-sie-tenant (env SIE_TENANT)',
  },
  json: { type: 'boolean', description: 'Machine-readable output: one JSON document on stdout' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses a command's arguments strictly (unknown options and missing values are usage errors,
 * exit 2) with the global options mixed in anywhere on the line.
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionSpecs,
  usage: string,
): ParsedArgs {
  const config: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...options })) {
    config[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: true,
    });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), usage);
  }
}

export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOpt(args: ParsedArgs, name: string, usage: string): string {
  const v = stringOpt(args, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`, usage);
  return v;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** The positional arguments a command expects, by name; missing or extra ones are usage errors. */
export function positionals(args: ParsedArgs, names: readonly string[], usage: string): string[] {
  if (args.positionals.length < names.length) {
    throw new UsageError(`missing ${names.slice(args.positionals.length).join(', ')}`, usage);
  }
  if (args.positionals.length > names.length) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(args.positionals[names.length])}`,
      usage,
    );
  }
  return args.positionals;
}

export function positiveNumberOpt(
  args: ParsedArgs,
  name: string,
  usage: string,
): number | undefined {
  const raw = stringOpt(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive number, not ${JSON.stringify(raw)}`, usage);
  }
  return n;
}
