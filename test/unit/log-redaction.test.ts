// The log formatter that replaces pino's `redact`: every secret name it knows is censored where it may
// appear, roomguard's own error codes stay readable, and what was logged is never changed.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CENSOR, loggerOptions, redactRecord } from '../../src/gateway/logger.js';

describe('redactRecord', () => {
  it('censors secrets at the top level and one level down, and header secrets in a headers object', () => {
    const record = {
      password: 'p1', token: 't1', idToken: 'i1', clientSecret: 'c1', url: 'wss://jvb/xmpp?token=t2',
      tokens: { token: 't3', idToken: 'i2', code: 'authz-code', password: 'p2', clientSecret: 'c2', kept: 'fine' },
      res: { headers: { 'set-cookie': 's1', 'content-type': 'text/html' } },
      upstream: { headers: { cookie: 'roomguard_session=x', authorization: 'Bearer b', 'x-roomguard-assertion': 'a1', accept: '*/*' } },
    };
    const out = redactRecord(record) as typeof record;
    expect(out.password).toBe(CENSOR);
    expect(out.token).toBe(CENSOR);
    expect(out.idToken).toBe(CENSOR);
    expect(out.clientSecret).toBe(CENSOR);
    expect(out.url).toBe(CENSOR);
    expect(out.tokens).toEqual({ token: CENSOR, idToken: CENSOR, code: CENSOR, password: CENSOR, clientSecret: CENSOR, kept: 'fine' });
    expect(out.res.headers).toEqual({ 'set-cookie': CENSOR, 'content-type': 'text/html' });
    expect(out.upstream.headers).toEqual({ cookie: CENSOR, authorization: CENSOR, 'x-roomguard-assertion': CENSOR, accept: '*/*' });
  });

  it('keeps a top-level error code (RG_…) and everything that is not a secret', () => {
    const record = { code: 'RG_LOGIN_REQUIRED', event: 'decision', room: 'board', session: 'abcd', count: 3 };
    expect(redactRecord(record)).toEqual(record);
  });

  it('never changes the object it was given', () => {
    const nested = { token: 't', other: 1 };
    const record = { nested, password: 'p' };
    redactRecord(record);
    expect(record).toEqual({ nested: { token: 't', other: 1 }, password: 'p' });
    expect(record.nested).toBe(nested);
  });

  it('keeps an error\'s message and stack when it censors a secret property of it', () => {
    const err = Object.assign(new Error('token exchange failed'), { token: 'leaked', status: 400 });
    const out = redactRecord({ error: err }) as { error: Record<string, unknown> };
    expect(out.error).toMatchObject({ type: 'Error', message: 'token exchange failed', token: CENSOR, status: 400 });
    expect(String(out.error.stack)).toContain('token exchange failed');
  });

  it('censors what an error carries, its inherited enumerable properties too, and keeps type, message and causes', () => {
    class TokenError extends Error {}
    (TokenError.prototype as unknown as Record<string, unknown>).token = 'inherited-secret';
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const log = pino(loggerOptions('info') as pino.LoggerOptions, stream);
    log.error({ err: new TokenError('refused') }, 'a');
    log.error({ err: Object.assign(new Error('outer', { cause: new Error('inner') }), { code: 'ECONNRESET', password: 'pw-1' }) }, 'b');
    log.warn({ failure: Object.assign(new Error('elsewhere'), { idToken: 'id-token-2' }) }, 'c');
    log.info({ err: null }, 'd');
    const [a, b, c, d] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.join('')).not.toMatch(/inherited-secret|pw-1|id-token-2/);
    expect(a!.err).toMatchObject({ type: 'TokenError', message: 'refused', token: CENSOR });
    expect(b!.err).toMatchObject({ type: 'Error', message: 'outer: inner', code: CENSOR, password: CENSOR });
    expect(String(b!.err.stack)).toContain('caused by: Error: inner');
    expect(c!.failure).toMatchObject({ type: 'Error', message: 'elsewhere', idToken: CENSOR });
    expect(d!.err).toBeNull();
  });

  it('censors the upstream path @fastify/reply-from logs as `source` (its query may carry a Jitsi ?jwt=)', () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    pino(loggerOptions('info') as pino.LoggerOptions, stream).child({ reqId: 'r1' }).info({ source: '/rooms/board?jwt=eyJ.source' }, 'fetching from remote server');
    expect(lines.join('')).not.toContain('eyJ.source');
    expect(JSON.parse(lines.join(''))).toMatchObject({ reqId: 'r1', source: CENSOR });
  });

  it('is what the gateway\'s logger writes: a line through pino with the options of `roomguard serve`', () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const options = loggerOptions('info') as pino.LoggerOptions;
    const log = pino(options, stream);
    log.info({ code: 'RG_X', query: { code: 'authz-code-123' }, err: Object.assign(new Error('boom'), { idToken: 'eyJ.secret' }), req: { id: 'r1', method: 'GET', url: '/rooms/a?jwt=tok', ip: '::1' } }, 'x');
    const line = lines.join('');
    expect(line).not.toContain('authz-code-123');
    expect(line).not.toContain('eyJ.secret');
    expect(line).not.toContain('jwt=tok');
    const parsed = JSON.parse(line) as Record<string, any>;
    expect(parsed.code).toBe('RG_X');
    expect(parsed.req).toEqual({ id: 'r1', method: 'GET', path: '/rooms/a', ip: '::1' });
    expect(parsed.err.message).toBe('boom');
  });
});
