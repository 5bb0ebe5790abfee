// Runs one command line against the command table: finds the command, answers --help and --version,
// parses the options strictly (unknown options, missing required ones, values outside their list and
// extra arguments are usage errors, exit 2) and calls the handler. Returns the exit status.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { didYouMean } from '../config/suggest.js';
import { UsageError } from './cli-args.js';
import { commandHelp, groupHelp, topUsage, usageHint } from './help.js';
import { COMMANDS, EXIT, GROUPS, commandsOf, nameOf, type CliIo, type CommandArgs, type CommandSpec } from './table.js';
import { VERSION } from './version.js';

const HELP_FLAGS = new Set(['-h', '--help']);
const VERSION_FLAGS = new Set(['-V', '--version']);

export const processIo: CliIo = { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) };

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let spec: CommandSpec | undefined;
  let groupName: string | undefined;
  try {
    const [first, second] = argv;
    if (first === undefined) {
      io.err(topUsage());
      return EXIT.usage;
    }
    if (HELP_FLAGS.has(first)) {
      io.out(topUsage());
      return EXIT.ok;
    }
    if (VERSION_FLAGS.has(first)) {
      io.out(`roomguard ${VERSION}\n`);
      return EXIT.ok;
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option ${first} (options come after the command)`);
    const group = GROUPS.find((g) => g.name === first);
    if (group) {
      groupName = group.name;
      if (second === undefined || HELP_FLAGS.has(second)) {
        (second === undefined ? io.err : io.out)(groupHelp(first));
        return second === undefined ? EXIT.usage : EXIT.ok;
      }
      spec = commandsOf(first).find((c) => c.path[1] === second);
      if (!spec) throw new UsageError(`unknown command: ${first} ${second}${didYouMean(second, commandsOf(first).map((c) => c.path[1]!)).replace(/"([^"]+)"/g, `"${first} $1"`)}`);
    } else {
      spec = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === first);
      if (!spec) throw new UsageError(`unknown command: ${first}${didYouMean(first, [...COMMANDS.filter((c) => c.path.length === 1).map((c) => c.path[0]), ...GROUPS.map((g) => g.name)])}`);
    }
    const rest = argv.slice(spec.path.length);
    if (asksForHelp(spec, rest)) {
      io.out(commandHelp(spec));
      return EXIT.ok;
    }
    return await spec.run(parseCommand(spec, rest), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`roomguard: ${err.message}\n${usageHint(spec, groupName)}`);
      return EXIT.usage;
    }
    io.err(`roomguard: ${(err as Error).message}\n`);
    return EXIT.problems;
  }
}

function parseOptions(spec: CommandSpec): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(spec.options)) options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}) };
  return options;
}

/** `-h`/`--help` anywhere among the command's options, even next to a mistake: help is what was asked for. */
function asksForHelp(spec: CommandSpec, rest: readonly string[]): boolean {
  const { tokens } = parseArgs({ args: [...rest], options: parseOptions(spec), strict: false, allowPositionals: true, tokens: true });
  return tokens.some((t) => t.kind === 'option' && t.name === 'help');
}

export function parseCommand(spec: CommandSpec, rest: readonly string[]): CommandArgs {
  const positionalSpecs = spec.positionals ?? [];
  const variadic = positionalSpecs.some((p) => p.variadic);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: parseOptions(spec), strict: true, allowPositionals: positionalSpecs.length > 0 });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (!variadic && positionals.length > positionalSpecs.length) throw new UsageError(`unexpected argument: ${positionals[positionalSpecs.length]}`);
  positionalSpecs.forEach((p, i) => {
    const given = positionals[i];
    if (given === undefined && p.required) throw new UsageError(`${nameOf(spec)} needs ${p.name}${p.choices ? ` (${p.choices.join(', ')})` : ''}`);
    if (given !== undefined && p.choices && !p.choices.includes(given)) throw new UsageError(`${p.name}: "${given}" is not one of ${p.choices.join(', ')}`);
  });
  for (const [name, option] of Object.entries(spec.options)) {
    const value = values[name];
    if (value === undefined && option.required) throw new UsageError(`${nameOf(spec)} needs --${name} ${option.value ?? ''}`.trimEnd());
    if (typeof value === 'string' && option.choices && !option.choices.includes(value)) throw new UsageError(`--${name}: "${value}" is not one of ${option.choices.join(', ')}`);
  }
  const clean = Object.fromEntries(Object.entries(values).filter(([name]) => name !== 'help')) as Record<string, string | boolean | undefined>;
  return {
    values: clean,
    positionals,
    string: (name) => (typeof clean[name] === 'string' ? (clean[name] as string) : undefined),
    flag: (name) => clean[name] === true,
  };
}
