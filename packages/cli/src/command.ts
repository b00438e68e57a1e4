import type { OptionSpecs, ParsedArgs } from './args.js';
import type { ApiClient } from './client.js';
import type { Io, Output } from './output.js';

export interface CommandContext {
  client: ApiClient;
  out: Output;
  json: boolean;
  io: Io;
  /** Aborted on SIGINT/SIGTERM (long-running commands end cleanly). */
  signal: AbortSignal;
  /** `sie <group> <command> …`, for usage errors. */
  usage: string;
}

export interface Command {
  name: string;
  summary: string;
  /** What follows `sie <group> <name>` in the usage line. */
  args: string;
  options: OptionSpecs;
  run(ctx: CommandContext, args: ParsedArgs): Promise<void>;
}

export interface CommandGroup {
  name: string;
  /** Other words for the group (`node` for `nodes`). */
  aliases?: string[];
  summary: string;
  commands: Command[];
}

export const usageOf = (group: CommandGroup, cmd: Command): string =>
  `sie ${group.name} ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}`;
