// `roomguard invite create|list|revoke`: the table has parsed and checked the options; the invitation
// commands (src/cli/invite-commands.ts) take them as arguments, as they do from their own tests.
import { runInviteCommand } from './invite-commands.js';
import type { CliIo, CommandArgs } from './table.js';
import { argsOf } from './reparse.js';

export async function invite(sub: 'create' | 'list' | 'revoke', args: CommandArgs, io: CliIo): Promise<number> {
  return runInviteCommand(sub, argsOf(args), { out: io.out, err: io.err });
}
