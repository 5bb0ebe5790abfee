// Structured logs (pino via fastify) with secrets redacted: cookies, authorization headers, tokens and
// codes never reach the log. Request URLs are logged without their query string, which may carry
// authorization codes or backend tokens. `log.format` chooses JSON lines (pino's fields plus the level's
// name) or text lines for people (local time, level word, message, key=value pairs); both are rendered
// from the same redacted record, so redaction does not depend on the format.
import type { FastifyServerOptions } from 'fastify';
import { levels, stdSerializers } from 'pino';

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

export type LogFormat = 'json' | 'text';

/** Where log lines go (stdout unless a test captures them). */
export interface LogDestination {
  write(line: string): unknown;
}

/**
 * The logger settings for fastify: `level`, `format`, and where the lines go. JSON lines keep pino's
 * fields (`level` as a number, `time`, `pid`, `hostname`, `msg` …) and add `levelName`.
 */
export function loggerOptions(level: string, format: LogFormat = 'json', destination?: LogDestination): FastifyServerOptions['logger'] {
  const stream = format === 'text' ? textLines(destination ?? process.stdout) : destination;
  return {
    level,
    ...(stream ? { stream } : {}),
    formatters: { log: redactRecord, level: (label: string, number: number) => ({ level: number, levelName: label }) },
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

/** Fields every text line shows in its own place, or leaves out (pid and hostname: the journal has them). */
const TEXT_OWN_FIELDS = new Set(['time', 'level', 'levelName', 'msg', 'pid', 'hostname']);
/** Characters that could break a line apart or disguise it: controls, format characters (bidi), line separators. */
const UNSAFE = /[\p{C}\u2028\u2029]/gu;
const BARE_VALUE = /^[^\s"=\\\p{C}\u2028\u2029]+$/u;

function escapeUnsafe(text: string): string {
  // Each UTF-16 unit as \uXXXX, as JSON writes it (an astral format character is two of them).
  const unit = (ch: string, i: number) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return text.replace(UNSAFE, (ch) => (ch === '\n' ? '\\n' : Array.from({ length: ch.length }, (_u, i) => unit(ch, i)).join('')));
}

/** A value as logfmt writes it: bare when it is one plain word, else quoted with every unsafe character escaped. */
function textValue(value: unknown): string {
  // A list of plain words reads best as `RG_A,RG_B`; anything else in a list as its JSON, quoted.
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && /^[^\s",=\\\p{C}\u2028\u2029]+$/u.test(v))) return value.join(',');
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  if (text !== '' && BARE_VALUE.test(text)) return text;
  return escapeUnsafe(JSON.stringify(text));
}

/** `key=value` pairs of a record, objects flattened with dots (`req.method=GET`), lists of words comma-separated. */
function textPairs(record: Record<string, unknown>, prefix = '', depth = 0): string[] {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || (depth === 0 && TEXT_OWN_FIELDS.has(key))) continue;
    const name = `${prefix}${escapeUnsafe(key).replace(/[\s="]/g, '_')}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 3) pairs.push(...textPairs(value as Record<string, unknown>, `${name}.`, depth + 1));
    else pairs.push(`${name}=${textValue(value)}`);
  }
  return pairs;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-05-04 14:03:22.123+02:00`: the machine's local time, with its offset so it is never ambiguous. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** One JSON line from pino as one text line: time, level word, message, key=value pairs. */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `${escapeUnsafe(json.trimEnd())}\n`;
  }
  const level = typeof record.levelName === 'string' ? record.levelName : levels.labels[Number(record.level)] ?? String(record.level);
  const time = typeof record.time === 'number' ? localTime(record.time) : localTime(Date.now());
  const msg = typeof record.msg === 'string' ? escapeUnsafe(record.msg) : '';
  return `${[time, level.toUpperCase().padEnd(5), msg, ...textPairs(record)].filter((part) => part !== '').join(' ')}\n`;
}

/** A pino destination that turns each JSON line into a text line before writing it on. */
function textLines(destination: LogDestination): LogDestination {
  return { write: (line: string) => destination.write(textLine(line)) };
}
