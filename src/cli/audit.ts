// `roomguard audit …`: the audit commands (src/cli/audit-commands.ts) with the directory, keys and retention
// of the configuration given with --config (default: ./audit and no keys).
import { resolve } from 'node:path';
import { auditDirOf, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
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
  const user = args.string('user');
  const userPseudonyms = sub === 'query' && user !== undefined ? await pseudonymsForQuery(config, user) : undefined;
  return runAuditCommand(argv, { auditDir: auditDirOf(config), signingKeyPem: config.secrets.auditSigningKey.reveal(), retentionDays: config.audit.retentionDays, ...(userPseudonyms ? { userPseudonyms } : {}) });
}

/** `query --user SUB` finds the person also where records carry a pseudonym; their own key (erasable) is in the store. */
async function pseudonymsForQuery(config: Config, user: string): Promise<string[]> {
  const { PersonKeys, pseudonymsOf } = await import('../audit/person-keys.js');
  const how = { issuer: config.oidc.issuer.href, signingKeyPem: config.secrets.auditSigningKey.reveal() };
  if (config.audit.identity !== 'erasable') return pseudonymsOf(user, how);
  const { openStore } = await import('../store/open.js');
  const store = await openStore(config);
  try {
    return await pseudonymsOf(user, { ...how, personKeys: new PersonKeys(store, config.audit.retentionDays) });
  } finally {
    await store.close();
  }
}
