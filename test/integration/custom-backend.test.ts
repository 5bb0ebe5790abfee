// A backend written here, in the test, against the Backend interface alone (src/backends/backend.ts),
// run through the real gateway with the real IdP, Redis, audit log and an HTTP upstream: proof that a new
// conferencing backend is one adapter and nothing in the gateway. Its rooms live at /stage/<room>; a page
// load enters with a `?ticket=` the backend mints (the gateway records the join first and keeps the
// ticket in the session); its signalling endpoint /cue?room=…&ticket=… passes only for a room this session
// holds a ticket for; /backstage is its server API, never reachable.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { firstPathOpening, type Backend, type Entry, type EntryRequest, type RoomLookup, type SignallingRequest, type SignallingVerdict } from '../../src/backends/backend.js';
import type { RequestPath } from '../../src/backends/request-path.js';
import { canonicalRoom } from '../../src/backends/room-name.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { startRig, type Rig } from '../helpers/rig.js';

class StageBackend implements Backend {
  readonly type = 'stage';
  readonly reservedRooms = ['backstage'];
  readonly guestsUseOwnPaths = false;
  readonly entries: EntryRequest[] = [];

  roomOf(path: RequestPath): RoomLookup {
    const [first, second, ...rest] = path.segments;
    if (first === 'backstage') return { kind: 'refused' };
    if (first === 'cue' && second === undefined) return { kind: 'signalling' };
    if (first !== 'stage' || second === undefined || rest.length > 0) return { kind: 'none' };
    const room = canonicalRoom(second);
    if (room === undefined || this.reservedRooms.includes(room)) return { kind: 'invalid' };
    return room === second ? { kind: 'room', room } : { kind: 'room', room, canonicalPath: `/stage/${room}` };
  }

  pathOf(room: string): string | undefined {
    return firstPathOpening(this, room, [`/stage/${room}`]);
  }

  async enter(request: EntryRequest): Promise<Entry> {
    this.entries.push(request);
    const query = new URLSearchParams(request.query);
    const given = query.get('ticket');
    if (given && (request.session.admissions[request.room] ?? []).includes(given)) return { kind: 'pass', details: { ticket: given, reused: true } };
    const ticket = randomBytes(9).toString('base64url');
    return { kind: 'enter', location: `${request.path}?ticket=${ticket}`, details: { ticket }, grant: { room: request.room, id: ticket } };
  }

  async signalling(request: SignallingRequest): Promise<SignallingVerdict> {
    const query = new URLSearchParams(request.query);
    const room = canonicalRoom(query.get('room') ?? '');
    const ticket = query.get('ticket');
    if (!room || !ticket || !(request.session.admissions[room] ?? []).includes(ticket)) return { kind: 'refuse', code: 'RG_JITSI_NOT_ADMITTED' };
    // Every message of a cue WebSocket is read: `deny …` is refused; `boom` makes the rule itself fail.
    return {
      kind: 'pass',
      stream: {
        judge: (message) => {
          const text = message.toString('utf8');
          if (text === 'boom') throw new Error('a bug in the stream rule');
          return text.startsWith('deny') ? { code: 'RG_JITSI_NOT_ADMITTED', room: text.slice(5), frames: ['refused'] } : undefined;
        },
      },
    };
  }
}

let rig: Rig;
let upstream: EchoUpstream;
let origin: string;
let auditDir: string;
const stage = new StageBackend();

beforeAll(async () => {
  rig = await startRig({ gateway: { backend: () => stage } });
  ({ upstream, origin, auditDir } = rig);
});

afterAll(async () => {
  await rig?.close();
});

async function signIn(user: string, path: string) {
  const browser = new ScriptedBrowser({ accept: 'text/html' });
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final, hops: done.hops };
}

describe('a backend written against the interface alone, through the real gateway', () => {
  it('enters an allowed room with the backend\'s own credential, recorded before it is handed out', async () => {
    const { final, hops } = await signIn('bob', '/stage/staff-weekly');
    expect(final.status).toBe(200);
    const ticket = new URL(final.url).searchParams.get('ticket');
    expect(ticket).toBeTruthy();
    expect(hops.some((h) => h.url.pathname === '/stage/staff-weekly' && h.url.searchParams.get('ticket') === ticket)).toBe(true);
    const seen = (await final.json()) as Arrived;
    expect(seen.headers['x-roomguard-room']).toBe('staff-weekly');
    const entry = stage.entries.at(-1)!;
    expect(entry).toMatchObject({ room: 'staff-weekly', role: 'participant', path: '/stage/staff-weekly', policy: { file: expect.stringMatching(/staff\.yaml$/) } });
    const records = await queryAudit(auditDir, { room: 'staff-weekly', type: 'room.decision', outcome: 'allow' });
    expect(records.map((r) => r.details?.ticket)).toContain(ticket);
    expect(records.some((r) => r.details?.reused === true)).toBe(true);
  });

  it('refuses the room the policy denies without asking the backend for an entry', async () => {
    const { browser } = await signIn('carol', '/stage/town-hall');
    const before = stage.entries.length;
    const res = await browser.request(`${origin}/stage/staff-weekly`);
    expect(res.status).toBe(403);
    expect(stage.entries.length).toBe(before);
  });

  it('lets signalling through only for a room this session holds the backend\'s credential for', async () => {
    const { browser, final } = await signIn('bob', '/stage/staff-weekly');
    const ticket = new URL(final.url).searchParams.get('ticket')!;
    const before = upstream.arrived.length;
    expect((await browser.request(`${origin}/cue?room=staff-weekly&ticket=${ticket}`)).status).toBe(200);
    expect((await browser.request(`${origin}/cue?room=board&ticket=${ticket}`)).status).toBe(403);
    expect((await browser.request(`${origin}/cue?room=staff-weekly&ticket=forged`)).status).toBe(403);
    expect(upstream.arrived.slice(before).map((a) => a.url)).toEqual([`/cue?room=staff-weekly&ticket=${ticket}`]);
  });

  it('reads every message of a stream the backend asked to judge; a rule that fails refuses the message instead of passing it', async () => {
    const { browser, final } = await signIn('bob', '/stage/staff-weekly');
    const ticket = new URL(final.url).searchParams.get('ticket')!;
    const open = async () => {
      const socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/cue?room=staff-weekly&ticket=${ticket}`, { headers: { cookie: browser.jar.header(new URL(origin))! } });
      const received: string[] = [];
      socket.on('message', (d) => received.push(d.toString()));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      // The upstream reports the handshake first: from then on the relay's upstream connection is open.
      await expect.poll(() => received.length).toBeGreaterThan(0);
      return { socket, received, closed: new Promise<number>((resolve) => socket.once('close', resolve)) };
    };
    const from = upstream.messages.length;
    const denied = await open();
    denied.socket.send('hello');
    await expect.poll(() => denied.received).toContain('echo:hello');
    denied.socket.send('deny board');
    expect(await denied.closed).toBe(1000);
    expect(denied.received).toContain('refused');
    const failed = await open();
    failed.socket.send('boom');
    expect(await failed.closed).toBe(1000);
    failed.socket.terminate();
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.messages.slice(from)).toEqual(['hello']);
    const refusals = await queryAudit(auditDir, { type: 'room.decision', outcome: 'deny' });
    expect(refusals.some((r) => r.reason === 'RG_JITSI_NOT_ADMITTED' && r.details?.attempted === 'board')).toBe(true);
    expect(refusals.some((r) => r.reason === 'RG_REQUEST_INVALID' && r.details?.attempted === '')).toBe(true);
  });

  it('keeps the backend\'s server API closed, redirects other spellings of a room, and finds the path of a room', async () => {
    const { browser } = await signIn('bob', '/stage/staff-weekly');
    expect((await browser.request(`${origin}/backstage/reset`)).status).toBe(403);
    const respelled = await browser.request(`${origin}/stage/Staff-Weekly`);
    expect(respelled.status).toBe(302);
    expect(respelled.headers.get('location')).toBe('/stage/staff-weekly');
    expect(stage.pathOf('town-hall')).toBe('/stage/town-hall');
    expect(stage.pathOf('backstage')).toBeUndefined();
  });
});
