import { SieError } from '@sie/errors';
import { parseCommandArgs, stringOpt } from './args.js';
import { ApiClient, DEFAULT_API_URL } from './client.js';
import { usageOf, type CommandGroup } from './command.js';
import { eventsGroup } from './commands/events.js';
import { modelsGroup } from './commands/models.js';
import { nodesGroup } from './commands/nodes.js';
import { pipelinesGroup } from './commands/pipelines.js';
import { runsGroup } from './commands/runs.js';
import { ApiRequestError, InputFileError, UsageError } from './errors.js';
import { commandHelp, groupHelp, mainHelp } from './help.js';
import { Output, type Io } from './output.js';

export const EXIT_OK = 0;
/** The API refused the request or could not be reached, or an input file is bad. */
export const EXIT_FAILED = 1;
/** The command line is wrong. */
export const EXIT_USAGE = 2;

export const GROUPS: readonly CommandGroup[] = [
  runsGroup,
  modelsGroup,
  pipelinesGroup,
  eventsGroup,
  nodesGroup,
];

const isHelp = (a: string | undefined): boolean => a === '--help' || a === '-h' || a === 'help';

/** Runs one command line and answers its exit code; never throws. */
export async function runCli(
  argv: readonly string[],
  io: Io,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(io, json);
  const [groupName, commandName, ...rest] = argv;
  if (groupName === undefined || isHelp(groupName) || groupName === '--json') {
    io.stdout.write(mainHelp(GROUPS));
    return groupName === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const group = GROUPS.find((g) => g.name === groupName || g.aliases?.includes(groupName));
  if (!group) {
    io.stderr.write(`error: unknown command group ${JSON.stringify(groupName)}\n\n`);
    io.stderr.write(mainHelp(GROUPS));
    return EXIT_USAGE;
  }
  if (commandName === undefined || isHelp(commandName)) {
    io.stdout.write(groupHelp(group));
    return commandName === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = group.commands.find((c) => c.name === commandName);
  if (!command) {
    io.stderr.write(
      `error: unknown command ${JSON.stringify(`${group.name} ${commandName}`)}\n\n${groupHelp(group)}`,
    );
    return EXIT_USAGE;
  }
  const usage = usageOf(group, command);
  try {
    const args = parseCommandArgs(rest, command.options, usage);
    if (args.values.help === true) {
      io.stdout.write(commandHelp(group, command));
      return EXIT_OK;
    }
    const client = new ApiClient(
      stringOpt(args, 'api') || io.env.SIE_API_URL || DEFAULT_API_URL,
      stringOpt(args, 'tenant') || io.env.SIE_TENANT || undefined,
    );
    await command.run({ client, out, json, io, signal, usage }, args);
    return EXIT_OK;
  } catch (err) {
    return reportError(err, out);
  }
}

/** Prints an error for a person (or as JSON with --json) on stderr and picks the exit code. */
export function reportError(err: unknown, out: Output): number {
  const usage = err instanceof UsageError;
  if (out.json) {
    const e = err instanceof SieError ? err : undefined;
    out.io.stderr.write(
      `${JSON.stringify({
        error: {
          code: e?.code ?? 'internal_error',
          message: err instanceof Error ? err.message : String(err),
          ...(e ? { details: e.details() } : {}),
          ...(err instanceof ApiRequestError && err.issues.length ? { issues: err.issues } : {}),
        },
      })}\n`,
    );
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
  const lines: string[] = [];
  if (err instanceof UsageError) {
    lines.push(`error: ${err.message}`);
    if (err.usage) lines.push(`usage: ${err.usage} [options]   (--help for details)`);
  } else if (err instanceof ApiRequestError) {
    // The message repeats the issues on one line; they are listed one per line below instead.
    const first = err.issues[0];
    const head =
      first && err.message.includes(first.path) && err.message.includes(': ')
        ? err.message.slice(0, err.message.indexOf(': '))
        : err.message;
    lines.push(`error: ${head} [${err.code}, HTTP ${err.status}]`);
    for (const issue of err.issues) {
      const where = (issue as { where?: string }).where;
      lines.push(`  ${issue.path || '(body)'}: ${issue.message}${where ? `  (${where})` : ''}`);
    }
    for (const [k, v] of Object.entries(err.remoteDetails)) {
      if (!(k === 'paths' && err.issues.length > 0)) lines.push(`  ${k}: ${v}`);
    }
  } else if (err instanceof InputFileError) {
    lines.push(`error: ${err.where}: ${err.message}`);
  } else if (err instanceof SieError) {
    lines.push(`error: ${err.message} [${err.code}]`);
  } else {
    lines.push(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
  out.io.stderr.write(`${lines.join('\n')}\n`);
  return usage ? EXIT_USAGE : EXIT_FAILED;
}
