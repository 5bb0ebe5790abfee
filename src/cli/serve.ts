// `roomguard serve`: validate the config, refuse unsafe choices, start the gateway, reload the config
// and policies on SIGHUP, drain and stop cleanly on SIGTERM/SIGINT. Config warnings (a secret written
// into the file, a deprecated key) are logged at start and on each reload.
import { loadConfigFile } from '../config/load.js';
import { formatProblem, type Problem } from '../config/yaml-source.js';
import { createGateway, type Gateway } from '../gateway/server.js';
import { loggerOptions } from '../gateway/logger.js';
import { PolicySetError } from '../policy/load.js';
import { EXIT, RUNNING } from './table.js';

function logWarnings(gateway: Gateway, warnings: readonly Problem[]): void {
  for (const w of warnings) gateway.app.log.warn({ event: 'config.warning', file: w.file, line: w.line, field: w.field }, w.message);
}

export async function serve(configFile: string | undefined): Promise<number> {
  const { config, problems, warnings } = loadConfigFile(configFile);
  if (!config) {
    for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    process.stderr.write(`roomguard: the config has ${problems.length} problem(s); nothing started\n`);
    return EXIT.problems;
  }
  if (config.store.url === 'memory' && !config.store.allowMemory) {
    process.stderr.write(`${config.sourceFile}: store.url: "memory" keeps sessions in this process only; set store.allowMemory: true to accept that\n`);
    return EXIT.problems;
  }
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, { logger: loggerOptions(config.log.level, config.log.format === 'text' ? 'text' : 'json') });
  } catch (err) {
    if (err instanceof PolicySetError) {
      for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
      process.stderr.write('roomguard: the policy set has problems; nothing started\n');
      return EXIT.problems;
    }
    process.stderr.write(`roomguard: cannot start: ${(err as Error).message}\n`);
    return EXIT.problems;
  }
  logWarnings(gateway, warnings);
  if (config.store.url === 'memory') gateway.app.log.warn('store.url is "memory": sessions are lost on restart and not shared between instances');
  const address = await gateway.listen();
  gateway.app.log.info({ event: 'started', address, publicUrl: config.publicUrl.origin, policies: gateway.policies.current.version.slice(0, 12) }, 'roomguard listening');
  // SIGHUP: the config file and the policies again; whatever is wrong is rejected whole and logged.
  let reloading = Promise.resolve();
  let stopping = false;
  process.on('SIGHUP', () => {
    if (stopping) return;
    reloading = reloading.then(async () => {
      const { config: next, problems: found, warnings: cautions } = loadConfigFile(config.sourceFile);
      if (!next) return gateway.rejectReload(found.map(formatProblem));
      if ((await gateway.reload(next)).ok) logWarnings(gateway, cautions);
    }).catch((err: unknown) => gateway.rejectReload([(err as Error).message]));
  });
  // SIGTERM/SIGINT: drain, then flush the audit log and exit; a second signal exits at once.
  const stop = () => {
    stopping = true;
    process.once('SIGTERM', () => process.exit(EXIT.problems));
    process.once('SIGINT', () => process.exit(EXIT.problems));
    void reloading.then(() => gateway.shutdown()).then(
      () => process.exit(EXIT.ok),
      (err: unknown) => {
        process.stderr.write(`roomguard: shutdown failed: ${(err as Error).message}\n`);
        process.exit(EXIT.problems);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return RUNNING;
}
