// Structured JSON logs (pino via fastify) with secrets redacted: cookies, authorization headers, tokens
// and codes never reach the log. Request URLs are logged without their query string, which may carry
// authorization codes or backend tokens.
import type { FastifyServerOptions } from 'fastify';
import { stdSerializers } from 'pino';

export const CENSOR = '[redacted]';

/** Redacted wherever they appear as a property of a logged object (`{ err: { token } }`), or at the top level. */
const SECRET_KEYS = new Set(['password', 'clientSecret', 'token', 'idToken', 'code']);
/** `code` at the top level is roomguard's error code (`RG_…`), logged on purpose; nested, it may be an authorization code. */
const TOP_LEVEL_ALLOWED = new Set(['code']);
/**
 * Redacted at the top level only: @fastify/http-proxy logs the WebSocket upstream URL (with Jitsi's
 * ?token=) at debug level; `source` is where @fastify/reply-from would log an upstream address.
 */
const TOP_LEVEL_SECRETS = new Set(['url', 'source']);
/** Redacted in any `headers` object one level down (`{ req: { headers: { cookie } } }`). */
const SECRET_HEADERS = ['cookie', 'authorization', 'x-roomguard-assertion', 'set-cookie'];
/** Left to the serializers below, which emit fixed fields (`req`) or censor what they emit (`err`). */
const SERIALIZED_SAFELY = new Set(['req', 'err']);

/** `obj` with `keys` replaced by the censor, copied only if one is present (logging must not mutate what it logs). */
function censored<T>(obj: T, keys: Iterable<string>): T {
  if (obj === null || typeof obj !== 'object') return obj;
  let out: T | undefined;
  for (const key of keys) {
    if (!Object.hasOwn(obj, key) || (obj as Record<string, unknown>)[key] === undefined) continue;
    out ??= { ...obj };
    (out as Record<string, unknown>)[key] = CENSOR;
  }
  return out ?? obj;
}

function redactNested(value: object): object {
  // An error is first serialized as pino would (type, message and stack with causes, and every enumerable
  // property, inherited ones included), then censored like any object.
  if (value instanceof Error) return censored(stdSerializers.err(value), SECRET_KEYS);
  let out = censored(value, SECRET_KEYS);
  const headers = (value as { headers?: unknown }).headers;
  if (Object.hasOwn(value, 'headers') && headers !== null && typeof headers === 'object') {
    const clean = censored(headers, SECRET_HEADERS);
    if (clean !== headers) out = { ...out, headers: clean };
  }
  return out;
}

/**
 * The log record with every secret replaced, as pino's `formatters.log` (each line's object, before the
 * serializers run). pino runs no formatter over a child logger's bindings: roomguard makes no child
 * loggers of its own and fastify's bind only the request id, so never bind a secret. This replaces pino's `redact`
 * option (the same paths, and more), which cost about 9 µs per line — two thirds of a request's logging
 * and a tenth of a proxied request's CPU in the benchmarks (docs/performance.md). It checks a fixed set
 * of property names on the record and one level into each object, copying only what it changes;
 * `test/integration/log-redaction.test.ts` reads a whole login's log to prove no secret gets through.
 */
export function redactRecord(record: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in record) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    let clean = value;
    if ((SECRET_KEYS.has(key) && !TOP_LEVEL_ALLOWED.has(key)) || TOP_LEVEL_SECRETS.has(key)) clean = CENSOR;
    else if (typeof value === 'object' && !SERIALIZED_SAFELY.has(key)) clean = redactNested(value);
    if (clean === value) continue;
    out ??= { ...record };
    out[key] = clean;
  }
  return out ?? record;
}

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    formatters: { log: redactRecord },
    serializers: {
      // pino's own error serializer (type, message and stack with causes, enumerable properties), censored.
      err: (err: Error) => censored(stdSerializers.err(err), SECRET_KEYS),
      // The request as logged: no headers (cookies, authorization), no query string (codes, tokens).
      req(request: { id: string; method: string; url: string; ip?: string }) {
        const url = request.url ?? '';
        const queryAt = url.indexOf('?');
        return { id: request.id, method: request.method, path: queryAt === -1 ? url : url.slice(0, queryAt), ip: request.ip };
      },
    },
  };
}
