// Secrets never reach the log: after a full login, room visit and logout, the log contains neither the
// session id, the authorization code, the client secret, the ID token nor cookies — in JSON lines and in
// text lines (log.format), each read from a gateway of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions, type LogFormat } from '../../src/gateway/logger.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { CLIENT_SECRET as SECRET, startRig, type Rig } from '../helpers/rig.js';

describe.each<LogFormat>(['json', 'text'])('logs (log.format: %s)', (format) => {
  let rig: Rig;
  let origin: string;
  const lines: string[] = [];

  beforeAll(async () => {
    rig = await startRig({ gateway: { logger: loggerOptions('trace', format, { write: (line: string) => lines.push(line) }) } });
    ({ origin } = rig);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('record decisions with request ids, and never secrets', async () => {
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${origin}/rooms/town-hall`);
    const done = await browser.submitLogin(start.final, 'alice', 'demo');
    expect(done.final.status).toBe(200);
    const callback = done.hops.find((h) => h.url.pathname === '/_roomguard/callback')!;
    const code = callback.url.searchParams.get('code')!;
    const sessionId = browser.jar.get('roomguard_session')!.value;
    const assertion = String(((await done.final.json()) as { headers: Record<string, string> }).headers['x-roomguard-assertion']);
    await browser.request(`${origin}/rooms/town-hall`, { headers: { authorization: 'Bearer top-secret-bearer' } });
    // A backend token in a proxied request's query (as Jitsi's ?jwt=) is logged by nobody, not even the proxy library.
    const proxied = await browser.request(`${origin}/rooms/town-hall/app.js?jwt=query-secret-jwt`);
    expect(proxied.status).toBe(200);
    // The backend's public static files, and one that is missing there.
    expect((await browser.request(`${origin}/public/libs/app.js`)).status).toBe(200);

    const log = lines.join('');
    expect(code.length).toBeGreaterThan(10);
    for (const secret of [sessionId, code, SECRET, assertion, 'top-secret-bearer', 'alice@example.org', 'query-secret-jwt']) {
      expect(log).not.toContain(secret);
    }
    if (format === 'text') {
      // Every record one line: local time with offset, level word, message, key=value pairs.
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) [^\n]*\n$/);
      expect(lines.some((l) => / event=decision /.test(l) && / outcome=allow /.test(l) && / room=town-hall /.test(l) && / reqId=\S+/.test(l))).toBe(true);
      expect(lines.filter((l) => / req\.path=\/rooms\/town-hall\/app\.js\b/.test(l) && /^\S+ \S+ INFO  request completed /.test(l))).toHaveLength(1);
      return;
    }
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.event === 'decision' && r.outcome === 'allow' && r.room === 'town-hall' && typeof r.reqId === 'string')).toBe(true);
    // Every record names its level in words as well as pino's number.
    const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
    expect(records.filter((r) => r.levelName !== names[Number(r.level)])).toEqual([]);
    // One info line per proxied request (roomguard's access line), not the proxy library's two more.
    const access = records.find((r) => r.msg === 'request completed' && (r.req as { path?: string } | undefined)?.path === '/rooms/town-hall/app.js');
    expect(access).toBeDefined();
    const infoLines = records.filter((r) => r.reqId === access!.reqId && Number(r.level) >= 30);
    expect(infoLines.map((r) => r.msg)).toEqual(['request completed']);
    // A public static file's access line is at debug (about a tenth of such a request's CPU: docs/performance.md).
    const publicLines = records.filter((r) => r.msg === 'request completed' && (r.req as { path?: string } | undefined)?.path === '/public/libs/app.js');
    expect(publicLines.map((r) => r.levelName)).toEqual(['debug']);
  });
});
