// What the attack suites do to a gateway the rig started (test/helpers/rig.ts): log in through the real
// IdP, talk raw bytes to the gateway on a socket of its own, enrol an authenticator app.
import { connect } from 'node:net';
import { generate } from 'otplib';
import { ScriptedBrowser } from '../helpers/browser.js';

/** Logs `user` in through the real IdP, starting at `path`; returns the browser and the last response. */
export async function loginAs(origin: string, user: string, path = '/rooms/town-hall'): Promise<{ browser: ScriptedBrowser; final: Response }> {
  const browser = new ScriptedBrowser();
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final };
}

export interface RawExchange {
  /** Everything the server sent before it closed the connection or went quiet. */
  text: string;
  /** HTTP status codes of every response in `text`, in order. */
  statuses: number[];
}

/**
 * Writes `bytes` to the gateway on a fresh TCP connection and collects what comes back until the
 * server closes the connection, or `quietMs` pass without data (for keep-alive answers).
 */
export function rawExchange(port: number, bytes: string | Buffer, quietMs = 300): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])) });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on('connect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? finish() : reject(err)));
  });
}

/** Enrols an authenticator app for the browser's person (first factor, right after login); returns its secret. */
export async function enrolTotp(origin: string, browser: ScriptedBrowser, returnTo: string, room: string): Promise<string> {
  const setup = await (await browser.request(`${origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo, room })}`)).text();
  const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setup)?.[1]?.replace(/\s+/g, '');
  const csrf = /name="csrf" value="([^"]+)"/.exec(setup)?.[1];
  if (!secret || !csrf) throw new Error(`no enrolment form in page:\n${setup.slice(0, 500)}`);
  const done = await browser.request(`${origin}/_roomguard/mfa/totp/setup`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, returnTo, room, code: await generate({ secret }), name: 'Phone' }).toString(),
  });
  if (done.status !== 303) throw new Error(`enrolment answered ${done.status}`);
  return secret;
}
