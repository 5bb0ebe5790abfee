// Scenario 7: the cost of one access-log line (every request writes one), in this process. roomguard's
// logger options (src/gateway/logger.ts: the redactRecord formatter) against pino's own `redact` with the
// paths roomguard used before (the baseline it replaced), and against no redaction at all (the floor).
// Lines go to a stream that drops them, so this is the CPU of building the line, not of writing it.
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { loggerOptions } from '../../src/gateway/logger.js';
import { ratioRow, type Row } from '../report.js';
import { median } from '../stats.js';
import type { Scenario } from './scenario.js';

/** The redact paths of roomguard's logger until 2026-11-27 (pino's `redact` option). */
const PINO_REDACT_PATHS = [
  'req.headers.cookie', 'req.headers.authorization', 'req.headers["x-roomguard-assertion"]', 'res.headers["set-cookie"]',
  '*.password', '*.clientSecret', '*.code', '*.token', '*.idToken', 'url',
];

const request = { id: '5f0c2a9e1b7d4c3a', method: 'GET', url: '/rooms/hall/app.js?v=3', ip: '203.0.113.7' };

function logger(options: LoggerOptions): Logger {
  const sink = new Writable({ write(_chunk, _encoding, done) { done(); } });
  // As fastify logs a request: a child logger with the request id, one line with the request and result.
  return pino(options, sink).child({ reqId: request.id });
}

/** Nanoseconds per access line over about `ms` milliseconds. */
function slice(log: Logger, ms: number): number {
  let lines = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 200; i++, lines++) log.info({ req: request, res: { statusCode: 200 }, responseTime: 1.3 }, 'request completed');
    elapsed = performance.now() - start;
  }
  return (elapsed * 1e6) / lines;
}

export const logScenario: Scenario = {
  name: 'log',
  async run(_env, settings) {
    const base = loggerOptions('info') as LoggerOptions;
    const { formatters: _formatters, ...withoutFormatter } = base;
    const variants = {
      roomguard: logger(base),
      redactPaths: logger({ ...withoutFormatter, redact: { paths: PINO_REDACT_PATHS, censor: '[redacted]' } }),
      none: logger(withoutFormatter),
    };
    for (const log of Object.values(variants)) slice(log, 50); // warm up
    const samples: Record<keyof typeof variants, number[]> = { roomguard: [], redactPaths: [], none: [] };
    // Short slices round-robin, so a burst of load on the machine hits all three alike.
    for (let round = 0; round < settings.reps * 10; round++) {
      for (const name of Object.keys(variants) as Array<keyof typeof variants>) samples[name].push(slice(variants[name], settings.decideMs / 5));
    }
    const scenario = 'access log line (pino, in process)';
    return [
      ratioRow({ scenario, metric: 'per line: redactRecord formatter vs pino redact paths', unit: 'ns', baseline: median(samples.redactPaths), roomguard: median(samples.roomguard), goal: 'report' }),
      ratioRow({ scenario, metric: 'per line: redactRecord formatter vs no redaction', unit: 'ns', baseline: median(samples.none), roomguard: median(samples.roomguard), goal: 'report' }),
    ] satisfies Row[];
  },
};
