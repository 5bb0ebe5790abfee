// Strict flag parsing for every roomguard command: unknown flags and extra arguments are usage errors
// (exit 2), never silently ignored. The command table (table.ts) parses with it; the audit and invite
// implementations parse their own arguments with it too.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals = 0) {
  try {
    const result = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
    if (result.positionals.length > positionals) throw new UsageError(`unexpected argument: ${result.positionals[positionals]}`);
    return result;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}
