import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, type ConfigIssue } from '@sie/errors';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { envNameFor, leafPaths } from './schema-walk.js';

export interface LoadConfigOptions<S extends z.ZodType> {
  /** Zod schema of the whole config: strict objects, defaults on every optional key. */
  schema: S;
  /** Environment to read (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments to read `--config <file>` from (defaults to process.argv). */
  argv?: readonly string[];
  /** Prefix of the generated variable names; `SIE_` by default. */
  envPrefix?: string;
  /** Well-known variables mapped onto config paths, e.g. `{ DATABASE_URL: 'databaseUrl' }`. */
  envAliases?: Record<string, string>;
  /**
   * Refuse variables meant for a config this schema does not have: a prefixed name that is no
   * key of it, or a well-known alias whose key it lacks. Off for services (a shared environment
   * reaches them all); deployment checks turn it on to prove every variable they set is read.
   */
  rejectUnknownEnv?: boolean;
}

/**
 * Loads a service config: schema defaults, then a JSON/YAML file (`--config` or `SIE_CONFIG`),
 * then environment variables, then validation. Unknown keys and bad values raise a ConfigError
 * naming every offending path, so a service fails at startup rather than running half-configured.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.output<S> {
  const env = options.env ?? process.env;
  const prefix = options.envPrefix ?? 'SIE_';
  const merged: Record<string, unknown> = {};

  const file = configFileFrom(options.argv ?? process.argv, env, prefix);
  if (file) deepMerge(merged, readConfigFile(file));

  const fromEnv: Record<string, unknown> = {};
  const leaves = leafPaths(options.schema);
  const known = new Set(leaves.map((p) => p.join('.')));
  for (const path of leaves) {
    const value = env[envNameFor(path, prefix)];
    if (value !== undefined) setPath(fromEnv, path, parseEnvValue(value));
  }
  for (const [name, dotted] of Object.entries(options.envAliases ?? {})) {
    // A shared environment (NATS_URL, DATABASE_URL) reaches services that have no such key.
    if (!known.has(dotted)) continue;
    const value = env[name];
    // The prefixed variable wins over the well-known alias.
    const path = dotted.split('.');
    if (value !== undefined && env[envNameFor(path, prefix)] === undefined) {
      setPath(fromEnv, path, parseEnvValue(value));
    }
  }
  deepMerge(merged, fromEnv);
  if (options.rejectUnknownEnv) {
    const issues = unknownEnv(env, prefix, leaves, options.envAliases ?? {}, known);
    if (issues.length > 0) throw new ConfigError(issues, 'environment');
  }
  return validate(options.schema, merged, file ? `${file} + environment` : 'environment');
}

function unknownEnv(
  env: NodeJS.ProcessEnv,
  prefix: string,
  leaves: string[][],
  aliases: Record<string, string>,
  known: Set<string>,
): ConfigIssue[] {
  const names = new Set(leaves.map((p) => envNameFor(p, prefix)));
  names.add(`${prefix}CONFIG`);
  const issues: ConfigIssue[] = [];
  for (const name of Object.keys(env).sort()) {
    if (env[name] === undefined) continue;
    const alias = aliases[name];
    if (alias !== undefined) {
      if (!known.has(alias)) {
        issues.push({ path: name, message: `unknown key: this service has no ${alias}` });
      }
    } else if (name.startsWith(prefix) && !names.has(name)) {
      issues.push({ path: name, message: 'unknown key: no config key has this variable name' });
    }
  }
  return issues;
}

/** Validates a value against a schema, turning every issue into a path-named ConfigError issue. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  source: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: [...base, key].join('.'), message: 'unknown key' });
      }
    } else {
      issues.push({ path: base.join('.'), message: issue.message });
    }
  }
  throw new ConfigError(issues, source);
}

function configFileFrom(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  prefix: string,
): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0) {
    const file = argv[i + 1];
    if (!file) throw new ConfigError([{ path: '', message: '--config needs a file path' }], 'argv');
    return file;
  }
  return env[`${prefix}CONFIG`] || undefined;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      [{ path: '', message: `cannot read config file: ${String(cause)}` }],
      file,
      {
        cause,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new ConfigError(
      [{ path: '', message: `not valid ${extname(file) || 'YAML'}: ${String(cause)}` }],
      file,
      { cause },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([{ path: '', message: 'the config file must hold an object' }], file);
  }
  return parsed as Record<string, unknown>;
}

/** Environment values are JSON when they parse as JSON (numbers, booleans, arrays), else strings. */
function parseEnvValue(raw: string): unknown {
  const t = raw.trim();
  if (/^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\})$/s.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else target[key] = value;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
