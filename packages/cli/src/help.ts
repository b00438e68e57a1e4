import { GLOBAL_OPTIONS, type OptionSpecs } from './args.js';
import { usageOf, type Command, type CommandGroup } from './command.js';
import { table } from './output.js';

function optionRows(options: OptionSpecs): string[][] {
  return Object.entries(options).map(([name, o]) => [
    `  ${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.description,
  ]);
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');

export function mainHelp(groups: readonly CommandGroup[]): string {
  const rows = groups.flatMap((g) => g.commands.map((c) => [`${g.name} ${c.name}`, c.summary]));
  return (
    'sie — the command line of the sie stream inference engine\n\n' +
    'Usage: sie <group> <command> [options]\n\n' +
    'Commands:\n' +
    indent(table([], rows)) +
    '\nGlobal options:\n' +
    table([], optionRows(GLOBAL_OPTIONS)) +
    '\nExit codes: 0 ok, 1 the API refused or could not be reached (or an input file is bad), ' +
    '2 bad usage.\nRun `sie <group> --help` or `sie <group> <command> --help` for details.\n'
  );
}

export function groupHelp(group: CommandGroup): string {
  const rows = group.commands.map((c) => [usageOf(group, c), c.summary]);
  return (
    `sie ${group.name} — ${group.summary}\n\nCommands:\n` +
    indent(table([], rows)) +
    `\nRun \`sie ${group.name} <command> --help\` for its options.\n`
  );
}

export function commandHelp(group: CommandGroup, cmd: Command): string {
  const own = optionRows(cmd.options);
  return (
    `Usage: ${usageOf(group, cmd)} [options]\n\n${cmd.summary}\n` +
    (own.length ? `\nOptions:\n${table([], own)}` : '') +
    `\nGlobal options:\n${table([], optionRows(GLOBAL_OPTIONS))}`
  );
}
