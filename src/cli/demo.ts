// `roomguard demo`: the whole path of a join on one machine (src/demo/run.ts). Not for production.
import { UsageError } from './cli-args.js';
import { RUNNING, type CommandArgs } from './table.js';

export async function demo(args: CommandArgs): Promise<number> {
  const portText = args.string('port') ?? process.env.PORT ?? '8080';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port: "${portText}" is not a port number`);
  const { runDemo } = await import('../demo/run.js');
  const running = await runDemo({
    host: args.string('host') ?? '127.0.0.1',
    port: Number(portText),
    dataDir: args.string('data') ?? '.roomguard-demo',
    logLevel: args.string('log-level') ?? 'info',
    logFormat: args.string('log-format') === 'json' ? 'json' : 'text',
  });
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return RUNNING;
}
