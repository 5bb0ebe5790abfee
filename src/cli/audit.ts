// `roomguard audit …`: the audit commands (src/cli/audit-commands.ts) with the directory, keys and retention
// of the configuration given with --config (default: ./audit and no keys).
import { resolve } from 'node:path';
import { auditDirOf, loadConfigFile } from '../config/load.js';
import { printProblems } from './output.js';
import { argsOf } from './reparse.js';
import { EXIT, type CommandArgs } from './table.js';

export async function audit(sub: string, args: CommandArgs): Promise<number> {
  const { runAuditCommand } = await import('./audit-commands.js');
  const argv = [sub, ...argsOf(args, ['config'])];
  const configFile = args.string('config');
  if (!configFile) return runAuditCommand(argv, { auditDir: resolve('audit') });
  const { config, problems } = loadConfigFile(configFile);
  if (!config) {
    printProblems(problems);
    return EXIT.problems;
  }
  return runAuditCommand(argv, { auditDir: auditDirOf(config), signingKeyPem: config.secrets.auditSigningKey.reveal(), retentionDays: config.audit.retentionDays });
}
