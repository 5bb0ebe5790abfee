// `roomguard serve`: validate the config, refuse unsafe choices, start the gateway, reload policies
// on SIGHUP, stop cleanly on SIGTERM/SIGINT.
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
  process.on('SIGHUP', () => void gateway.policies.reload());
  const stop = () => void gateway.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
