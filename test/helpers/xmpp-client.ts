// A small XMPP client for the Prosody tests, over WebSocket (RFC 7395) or BOSH (XEP-0124/0206): anonymous
// login, resource binding, MUC joins. Strings in, strings out; it reads what Prosody answers with
// regular expressions, which is enough for the few stanzas a test waits for.
import WebSocket from 'ws';
import { until } from './until.js';

const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const BOSH = 'http://jabber.org/protocol/httpbind';
const MUC = 'http://jabber.org/protocol/muc';

export interface XmppConnection {
  /** Everything the server sent, in order. */
  readonly received: string[];
  /** Sends raw XML (one WebSocket message, or one BOSH body's content). */
  send(xml: string): Promise<void>;
  /** Waits for a received frame that matches. */
  waitFor(what: string, match: (frame: string) => boolean, timeout?: number): Promise<string>;
  /** Whether the server (or roomguard) ended the connection. */
  readonly ended: boolean;
  close(): Promise<void>;
}

/** The presence stanza of a MUC join. */
export function joinStanza(roomJid: string, nick: string): string {
  return `<presence xmlns="jabber:client" to="${roomJid}/${nick}"><x xmlns="${MUC}"/></presence>`;
}

/** Whether `frames` hold this occupant's own presence in the room (status 110: the join took effect). */
export function joined(frames: readonly string[], roomJid: string, nick: string): boolean {
  return frames.some((f) => f.includes(`from="${roomJid}/${nick}"`) || f.includes(`from='${roomJid}/${nick}'`)) && frames.some((f) => /status code=["']110["']/.test(f) && f.includes(`${roomJid}/${nick}`));
}

/** Connects over WebSocket, logs in anonymously and binds a resource. */
export async function connectWebSocket(url: string, domain: string, headers: Record<string, string> = {}): Promise<XmppConnection> {
  const socket = new WebSocket(url, 'xmpp', { headers });
  const received: string[] = [];
  let ended = false;
  socket.on('message', (data) => received.push(data.toString()));
  socket.on('close', () => (ended = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: ${res.statusCode}`)));
  });
  const connection: XmppConnection = {
    received,
    get ended() {
      return ended;
    },
    send: async (xml) => {
      socket.send(xml);
    },
    waitFor: (what, match, timeout = 10_000) => until(what, () => received.find(match) ?? (ended ? Promise.reject(new Error(`connection ended waiting for ${what}: ${received.join('\n')}`)) : undefined), { timeout }),
    close: async () => {
      if (socket.readyState === WebSocket.OPEN) socket.close();
    },
  };
  await login(connection, domain, (to) => `<open xmlns="${FRAMING}" to="${to}" version="1.0"/>`);
  return connection;
}

/** Connects over BOSH, logs in anonymously and binds a resource; `send` posts one request and a poll collects answers. */
export async function connectBosh(url: string, domain: string, headers: Record<string, string> = {}): Promise<XmppConnection & { post(body: string): Promise<{ status: number; text: string }>; wrap(inner: string): string }> {
  const received: string[] = [];
  let ended = false;
  let rid = Math.floor(Math.random() * 1e9);
  let sid = '';
  const post = async (body: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', ...headers }, body });
    const text = await res.text();
    if (res.status !== 200 || text.includes('type="terminate"') || text.includes("type='terminate'")) ended = true;
    received.push(text);
    return { status: res.status, text };
  };
  const wrap = (inner: string, attrs = '') => `<body xmlns="${BOSH}" rid="${++rid}" sid="${sid}"${attrs}>${inner}</body>`;
  const first = await post(`<body xmlns="${BOSH}" rid="${++rid}" to="${domain}" xml:lang="en" wait="2" hold="1" ver="1.6" xmpp:version="1.0" xmlns:xmpp="urn:xmpp:xbosh"/>`);
  sid = /sid=["']([^"']+)["']/.exec(first.text)?.[1] ?? '';
  if (!sid) throw new Error(`no BOSH session: ${first.status} ${first.text}`);
  const connection = {
    received,
    get ended() {
      return ended;
    },
    post,
    wrap,
    send: async (xml: string) => {
      await post(wrap(xml));
    },
    waitFor: async (what: string, match: (frame: string) => boolean, timeout = 10_000) =>
      until(what, async () => {
        const found = received.find(match);
        if (found || ended) return found ?? Promise.reject(new Error(`BOSH session ended waiting for ${what}: ${received.join('\n')}`));
        await post(wrap(''));
        return received.find(match);
      }, { timeout }),
    close: async () => {
      if (!ended) await post(wrap('', ' type="terminate"')).catch(() => undefined);
    },
  };
  // The features came with the session response; a restart is a body with xmpp:restart.
  await login(connection, domain, () => '', (inner) => post(wrap(inner, ' xmpp:restart="true" xmlns:xmpp="urn:xmpp:xbosh"')).then(() => undefined));
  return connection;
}

/** SASL ANONYMOUS, stream restart, resource binding. */
async function login(c: XmppConnection, domain: string, open: (to: string) => string, restart?: (inner: string) => Promise<void>): Promise<void> {
  const openXml = open(domain);
  if (openXml) await c.send(openXml);
  await c.waitFor('SASL mechanisms', (f) => f.includes('ANONYMOUS'));
  await c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
  await c.waitFor('SASL success', (f) => f.includes('<success'));
  const seen = c.received.length;
  if (restart) await restart('');
  else await c.send(open(domain));
  await c.waitFor('bind feature', (f) => c.received.indexOf(f) >= seen && f.includes('urn:ietf:params:xml:ns:xmpp-bind'));
  await c.send('<iq xmlns="jabber:client" type="set" id="bind1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>');
  await c.waitFor('bound JID', (f) => /<jid>[^<]+<\/jid>/.test(f));
}
