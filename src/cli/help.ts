// Usage lines and help pages, rendered from the command table: the list of commands (`roomguard --help`),
// a group's subcommands (`roomguard policy --help`) and one command's options (`roomguard serve --help`).
import { UsageError } from './cli-args.js';
import { COMMANDS, EXIT, EXIT_CODES_TEXT, GROUPS, commandsOf, nameOf, type CliIo, type CommandSpec, type OptionSpec } from './table.js';
import { VERSION } from './version.js';

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', doc: 'show this help' };

function optionWord(name: string, option: OptionSpec): string {
  const value = option.type === 'string' ? ` ${option.choices && option.choices.length <= 4 ? option.choices.join('|') : option.value ?? 'VALUE'}` : '';
  return `--${name}${value}`;
}

/** `roomguard policy explain --room NAME [--dir DIR] … [DIR]`: required options bare, the rest in brackets. */
export function synopsis(spec: CommandSpec): string {
  const words = [`roomguard ${nameOf(spec)}`];
  for (const p of spec.positionals ?? []) if (p.required) words.push(p.choices ? p.choices.join('|') : p.name);
  for (const [name, option] of Object.entries(spec.options)) if (option.required) words.push(optionWord(name, option));
  for (const [name, option] of Object.entries(spec.options)) if (!option.required) words.push(`[${optionWord(name, option)}]`);
  for (const p of spec.positionals ?? []) if (!p.required) words.push(p.variadic ? `[${p.name}…]` : `[${p.name}]`);
  return words.join(' ');
}

/** Wraps text at word boundaries to fit a 100-column terminal, continuing lines with `indent`. */
export function wrap(text: string, indent = '', width = 96): string {
  const lines: string[] = [];
  const [first = '', ...words] = text.split(' ');
  let line = first;
  for (const word of words) {
    if (word && line.trim() && line.length + word.length + 1 > width) {
      lines.push(line);
      line = indent + word;
    } else line = `${line} ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/** A synopsis wrapped only between options, never inside `[--guest ROOM]`. */
function wrapSynopsis(text: string): string {
  const indent = ' '.repeat('usage: '.length + 2);
  const lines: string[] = [];
  let line = '';
  for (const part of text.split(/ (?=\[|--)/)) {
    if (line && line.length + part.length + 1 > 96) {
      lines.push(line);
      line = indent + part;
    } else line = line ? `${line} ${part}` : part;
  }
  lines.push(line);
  return lines.join('\n');
}

function table(rows: Array<[string, string]>): string {
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)) + 2);
  const indent = ' '.repeat(width + 2);
  return rows.map(([left, right]) => (left.length + 2 > width ? `  ${left}\n${wrap(indent + right, indent)}` : wrap(`  ${left.padEnd(width)}${right}`, indent))).join('\n');
}

export function commandHelp(spec: CommandSpec): string {
  const rows: Array<[string, string]> = [];
  for (const [name, option] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    const flag = `${option.short ? `-${option.short}, ` : '    '}${optionWord(name, option)}`;
    const extra = [option.required ? '(required)' : '', option.choices && option.choices.length > 4 ? `(one of: ${option.choices.join(', ')})` : ''].filter(Boolean).join(' ');
    rows.push([flag, `${option.doc}${extra ? ` ${extra}` : ''}`]);
  }
  const positionals = (spec.positionals ?? []).map((p): [string, string] => [p.name, p.doc]);
  return [
    `usage: ${wrapSynopsis(synopsis(spec))}`,
    '',
    wrap(`${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.${spec.about ? ` ${spec.about}` : ''}`),
    '',
    ...(positionals.length ? ['arguments:', table(positionals), ''] : []),
    'options:',
    table(rows),
    '',
    wrap(EXIT_CODES_TEXT, '  '),
    '',
  ].join('\n');
}

export function groupHelp(group: string): string {
  const spec = GROUPS.find((g) => g.name === group)!;
  const subs = commandsOf(group);
  return [
    `usage: roomguard ${group} <${subs.map((c) => c.path[1]).join('|')}> [options]`,
    '',
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    '',
    'commands:',
    table(subs.map((c) => [nameOf(c), c.summary])),
    '',
    `Run 'roomguard ${group} <command> --help' for a command's options.`,
    wrap(EXIT_CODES_TEXT, '  '),
    '',
  ].join('\n');
}

export function topUsage(): string {
  const rows: Array<[string, string]> = [];
  for (const spec of COMMANDS) rows.push([nameOf(spec), spec.summary]);
  return [
    `roomguard ${VERSION}: meeting access-control gateway`,
    '',
    'usage: roomguard <command> [options]',
    '       roomguard <command> --help      a command\'s options',
    '       roomguard --version             print the version',
    '',
    'commands:',
    table(rows),
    '',
    wrap(EXIT_CODES_TEXT, '  '),
    'Documentation: README.md and docs/ (in the package or the repository).',
    '',
  ].join('\n');
}

/** The short reminder after a usage error: the synopsis and where the full help is. */
export function usageHint(spec: CommandSpec | undefined, group?: string): string {
  if (!spec && group) return `usage: roomguard ${group} <${commandsOf(group).map((c) => c.path[1]).join('|')}> [options]\nRun 'roomguard ${group} --help' for its commands.\n`;
  if (!spec) return `usage: roomguard <command> [options]\nRun 'roomguard --help' for the commands.\n`;
  return `usage: ${wrapSynopsis(synopsis(spec))}\nRun 'roomguard ${nameOf(spec)} --help' for details.\n`;
}

/** `roomguard help [COMMAND…]`. */
export async function helpCommand(words: readonly string[], io: CliIo): Promise<number> {
  if (words.length === 0) {
    io.out(topUsage());
    return EXIT.ok;
  }
  const spec = COMMANDS.find((c) => c.path.join(' ') === words.join(' '));
  if (spec) io.out(commandHelp(spec));
  else if (words.length === 1 && GROUPS.some((g) => g.name === words[0])) io.out(groupHelp(words[0]!));
  else throw new UsageError(`no command "${words.join(' ')}"`);
  return EXIT.ok;
}
