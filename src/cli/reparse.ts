// Turns options the table has parsed back into arguments, for the command implementations that parse
// their own (audit, invite). What reaches them has passed the table's strict parse already; a test runs
// every option the table lists through them, so the two lists cannot drift apart unnoticed.
import type { CommandArgs } from './table.js';

export function argsOf(args: CommandArgs, leaveOut: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(args.values)) {
    if (value === undefined || value === false || leaveOut.includes(name)) continue;
    out.push(value === true ? `--${name}` : `--${name}=${value}`);
  }
  // After `--`, a positional that starts with a dash stays a positional.
  if (args.positionals.length > 0) out.push('--', ...args.positionals);
  return out;
}
