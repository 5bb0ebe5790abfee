// `roomguard serve`: validate the config, refuse unsafe choices, start the gateway, reload the config
// and policies on SIGHUP, drain and stop cleanly on SIGTERM/SIGINT.
import { loadConfigFile } from './config/load.js';
import { formatProblem } from './config/yaml-source.js';
import { createGateway } from './gateway/server.js';
import { loggerOptions } from './gateway/logger.js';
import { PolicySetError } from './policy/load.js';

export async function serve(configFile: string | undefined): Promise<number> {
  const { config, problems } = loadConfigFile(configFile);
  if (!config) {
    for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    process.stderr.write(`roomguard: the config has ${problems.length} problem(s); nothing started\n`);
    return 1;
  }
  if (config.store.url === 'memory' && !config.store.allowMemory) {
    process.stderr.write(`${config.sourceFile}: store.url: "memory" keeps sessions in this process only; set store.allowMemory: true to accept that\n`);
    return 1;
  }
  let gateway;
  try {
    gateway = await createGateway(config, { logger: loggerOptions(config.log.level) });
  } catch (err) {
    if (err instanceof PolicySetError) {
      for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
      process.stderr.write('roomguard: the policy set has problems; nothing started\n');
      return 1;
    }
    process.stderr.write(`roomguard: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  if (config.store.url === 'memory') gateway.app.log.warn('store.url is "memory": sessions are lost on restart and not shared between instances');
  const address = await gateway.listen();
  gateway.app.log.info({ event: 'started', address, publicUrl: config.publicUrl.origin, policies: gateway.policies.current.version.slice(0, 12) }, 'roomguard listening');
  // SIGHUP: the config file and the policies again; whatever is wrong is rejected whole and logged.
  let reloading = Promise.resolve();
  let stopping = false;
  process.on('SIGHUP', () => {
    if (stopping) return;
    reloading = reloading.then(async () => {
      const { config: next, problems: found } = loadConfigFile(config.sourceFile);
      if (!next) return gateway.rejectReload(found.map(formatProblem));
      await gateway.reload(next);
    }).catch((err: unknown) => gateway.rejectReload([(err as Error).message]));
  });
  // SIGTERM/SIGINT: drain, then flush the audit log and exit; a second signal exits at once.
  const stop = () => {
    stopping = true;
    process.once('SIGTERM', () => process.exit(1));
    process.once('SIGINT', () => process.exit(1));
    void reloading.then(() => gateway.shutdown()).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`roomguard: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
