// Structured JSON logs (pino via fastify) with secrets redacted: cookies, authorization headers, tokens
// and codes never reach the log. Request URLs are logged without their query string, which may carry
// authorization codes or backend tokens.
import type { FastifyServerOptions } from 'fastify';

export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-roomguard-assertion"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.clientSecret',
  '*.code',
  '*.token',
  '*.idToken',
  // @fastify/http-proxy logs the WebSocket upstream URL (with Jitsi's ?token=) at debug level.
  'url',
];

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req(request: { id: string; method: string; url: string; ip?: string }) {
        const url = request.url ?? '';
        const queryAt = url.indexOf('?');
        return { id: request.id, method: request.method, path: queryAt === -1 ? url : url.slice(0, queryAt), ip: request.ip };
      },
    },
  };
}
