// log.format (issue 16): JSON lines keep pino's fields and add the level's name; text lines are local
// time, the level word, the message and key=value pairs — one record, one line, whatever a client put
// into a value, and redacted exactly like JSON.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loggerOptions, localTime, textLine, type LogFormat } from '../../src/gateway/logger.js';

/** A real pino logger with roomguard's options, its lines captured. */
function capture(format: LogFormat, level = 'trace') {
  const lines: string[] = [];
  const { stream, ...options } = loggerOptions(level, format, { write: (line: string) => lines.push(line) }) as pino.LoggerOptions & { stream: pino.DestinationStream };
  return { log: pino(options, stream), lines };
}

const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d) (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) (.*)\n$/;

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('JSON lines', () => {
  it('keep pino\'s fields (numeric level, time, pid, hostname, msg) and add levelName', () => {
    const { log, lines } = capture('json');
    log.warn({ event: 'config.warning', field: 'oidc.clientSecret' }, 'a warning');
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 40, levelName: 'warn', msg: 'a warning', event: 'config.warning', field: 'oidc.clientSecret', pid: process.pid });
    expect(typeof record.time).toBe('number');
    expect(typeof record.hostname).toBe('string');
  });
});

describe('text lines', () => {
  it('read as local time, level word, message, then key=value pairs', () => {
    const { log, lines } = capture('text');
    log.info({ event: 'decision', room: 'town-hall', outcome: 'allow', reasons: ['RG_A', 'RG_B'], groups: [], names: ['Ada L', 'b'], req: { id: 'r1', method: 'GET', url: '/rooms/town-hall?code=authz' } }, 'room decision');
    const [, , level, rest] = LINE.exec(lines[0]!)!;
    expect(level).toBe('INFO ');
    expect(rest).toBe('room decision event=decision room=town-hall outcome=allow reasons=RG_A,RG_B groups=[] names="[\\"Ada L\\",\\"b\\"]" req.id=r1 req.method=GET req.path=/rooms/town-hall');
  });

  it('use the machine\'s time zone, with its offset', () => {
    process.env.TZ = 'Europe/Berlin';
    expect(localTime(Date.UTC(2026, 0, 15, 12, 0, 0, 7))).toBe('2026-01-15 13:00:00.007+01:00');
    expect(localTime(Date.UTC(2026, 6, 15, 12, 0, 0))).toBe('2026-07-15 14:00:00.000+02:00');
    process.env.TZ = 'America/St_Johns';
    expect(localTime(Date.UTC(2026, 0, 15, 12, 0, 0))).toBe('2026-01-15 08:30:00.000-03:30');
    process.env.TZ = 'UTC';
    const { log, lines } = capture('text');
    log.error('x');
    expect(LINE.exec(lines[0]!)![1]).toMatch(/\+00:00$/);
  });

  it('name every level in words', () => {
    const { log, lines } = capture('text');
    log.trace('a');
    log.debug('b');
    log.info('c');
    log.warn('d');
    log.error('e');
    log.fatal('f');
    expect(lines.map((l) => LINE.exec(l)![2])).toEqual(['TRACE', 'DEBUG', 'INFO ', 'WARN ', 'ERROR', 'FATAL']);
  });

  it('stay one line, whatever a client put into the message or a value (newlines, controls, bidi overrides, line separators)', () => {
    const { log, lines } = capture('text');
    const hostile = 'evil\nFAKE 2026-01-01 00:00:00.000+00:00 INFO  login ok\r\u0000\u001b[31m\u202e\u2028\u2029\u{e0041}';
    log.info({ userAgent: hostile, path: '/a b', [`k e=y"\n`]: 'v' }, hostile);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(line.slice(0, -1)).not.toMatch(/[\p{C}\u2028\u2029]/u);
    expect(line).toContain('evil\\nFAKE');
    expect(line).toContain('\\u202e');
    expect(line).toContain('\\udb40\\udc41');
    expect(line).toContain('path="/a b"');
    expect(line).toContain('k_e_y_\\n=v');
  });

  it('quote empty strings and values with =, quotes or backslashes, and leave plain words bare', () => {
    const { log, lines } = capture('text');
    log.info({ a: '', b: 'x=y', c: 'say "hi"', d: 'back\\slash', e: 'plain-word_1.2', f: 42, g: true, h: null }, 'm');
    expect(LINE.exec(lines[0]!)![3]).toBe('m a="" b="x=y" c="say \\"hi\\"" d="back\\\\slash" e=plain-word_1.2 f=42 g=true h=null');
  });

  it('keep a line that is not JSON, escaped, rather than drop it', () => {
    expect(textLine('not json\u001b\n')).toBe('not json\\u001b\n');
  });

  it('redact secrets as the JSON lines do (both render the same redacted record)', () => {
    for (const format of ['json', 'text'] as const) {
      const { log, lines } = capture(format);
      log.info({ password: 'pw-secret', clientSecret: 'client-secret', url: 'wss://x/?token=url-token', err: Object.assign(new Error('boom'), { token: 'err-token' }), upstream: { headers: { cookie: 'roomguard_session=cookie-secret', authorization: 'Bearer bearer-secret' } } }, 'm');
      const text = lines.join('');
      for (const secret of ['pw-secret', 'client-secret', 'url-token', 'err-token', 'cookie-secret', 'bearer-secret']) expect(text, `${format}: ${secret}`).not.toContain(secret);
      expect(text).toContain('[redacted]');
    }
  });
});
