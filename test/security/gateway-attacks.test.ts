// Hostile requests against one real gateway (real Redis, real oidc-provider, real HTTP + WebSocket
// upstream): room-name spellings, spoofed identity and proxy headers, session fixation and forged
// cookies, CSRF on every state-changing route, and protocol abuse over raw sockets. Each test checks
// what the upstream received, so "refused" also means "nothing leaked through".
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { rawRequest } from '../helpers/raw-http.js';
import type { Arrived } from '../helpers/upstream.js';
import { loginAs, rawExchange } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { getWithRawHeaders, HAND_PICKED, leaked as spoofedNames, openWebSocket, spoofBatches } from '../helpers/spoofed-headers.js';

let rig: Rig;
let carol: string;
let bob: ScriptedBrowser;

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl'), config: { audit: { ip: 'full' } } });
  carol = (await loginAs(rig.origin, 'carol')).browser.jar.header(new URL(rig.origin))!;
  bob = (await loginAs(rig.origin, 'bob')).browser;
});

afterAll(async () => {
  await rig?.close();
});

const reached = (filter: (a: Arrived) => boolean) => rig.upstream.arrived.filter(filter).length;

/** Sends a raw path with carol's cookie and follows same-origin redirects by hand (at most 3). */
async function carolOpens(path: string): Promise<{ status: number; body: string; path: string }> {
  let current = path;
  for (let hop = 0; hop < 3; hop++) {
    const res = await rawRequest(rig.port, current, { cookie: carol });
    const location = res.headers.location;
    if (res.status !== 302 || typeof location !== 'string' || !location.startsWith('/') || location.startsWith('//')) return { status: res.status, body: res.body, path: current };
    current = location;
  }
  throw new Error(`redirect loop from ${path}`);
}

describe('room names through the gateway: every spelling judges the canonical room or is refused', () => {
  // carol may enter town-hall; staff-weekly (staff-*) and board are denied to her.
  const deniedSpellings = [
    '/rooms/STAFF-WEEKLY', '/rooms/Staff-Weekly/', '/rooms/staff-weekly/', '/rooms/staff-weekly/x/y', '/rooms/%73taff-weekly', '/rooms/%53TAFF-weekly',
    '/rooms/%2573taff-weekly', '/rooms/%EF%BD%93taff-weekly', '/rooms/%EF%BC%B3TAFF-WEEKLY', '/rooms/staff-weekly;jsessionid=1', '/rooms/staff-weekly%3bx',
    '/rooms/staff-weekly%00', '/rooms/staff-weekly%0d%0aX-Roomguard-Room:%20town-hall', '/rooms/staff-weekly%ff', '/rooms/staff-weekly%c3', '/rooms/./staff-weekly',
    '/rooms/town-hall/../staff-weekly', '/rooms/town-hall/%2e%2e/staff-weekly', '/rooms/staff-weekly/.', '/rooms/staff-weekly%2f..%2ftown-hall', '/rooms/town-hall%2f..%2fstaff-weekly',
    '/rooms/staff-weekly#town-hall', '/rooms/staff-weekly?room=town-hall', '/rooms/town-hall%2fstaff-weekly', '/rooms/town-hall%5cstaff-weekly', '/rooms/staff%2dweekly',
    '/rooms/staff-weekly%20', '/rooms/%20staff-weekly', '/rooms/staff-weekly%09', '/rooms/staff%E2%80%91weekly', '/Rooms/staff-weekly', '/rooms%2fstaff-weekly',
    '/rooms/board', '/rooms/BOARD', '/rooms/%62oard', '/rooms/%EF%BD%82oard', '/rooms/b%C3%B6ard', '/rooms/board%E2%80%8B', `/rooms/${'a'.repeat(300)}`, `/rooms/${'%41'.repeat(5000)}`,
  ];

  const labelled = deniedSpellings.map((path) => [path.length > 80 ? `${path.slice(0, 30)}… (${path.length} bytes)` : path, path]);

  it.each(labelled)('%s never reaches the upstream for carol', async (_label, path) => {
    const before = rig.upstream.arrived.length;
    const res = await carolOpens(path);
    expect([400, 403, 404, 414, 431]).toContain(res.status);
    expect(res.body).not.toContain('"x-roomguard-room"');
    expect(rig.upstream.arrived.length).toBe(before);
  });

  const townHallSpellings = ['/rooms/town-hall', '/rooms/Town-Hall', '/rooms/TOWN-HALL/', '/rooms/%74own-hall', '/rooms/%EF%BD%94own-hall', '/rooms/town-hall/app.js', '/rooms/town-hall?x=/rooms/board'];

  it.each(townHallSpellings)('%s either admits carol to town-hall itself or is refused', async (path) => {
    const res = await carolOpens(path);
    if (res.status !== 200) {
      expect(res.status).toBe(400);
      return;
    }
    const seen = JSON.parse(res.body) as Arrived;
    expect(seen.headers['x-roomguard-room']).toBe('town-hall');
    expect(seen.url.startsWith('/rooms/town-hall')).toBe(true);
  });
});

describe('identity and proxy headers from an untrusted peer', () => {
  const spoofed = {
    'Remote-User': 'alice', 'X-Remote-User': 'alice', 'X-Forwarded-User': 'alice', 'X-Forwarded-Email': 'alice@example.org', 'X-Forwarded-Groups': 'board',
    'X-Forwarded-For': '203.0.113.9', 'X-Real-IP': '203.0.113.9', 'Forwarded': 'for=203.0.113.9;host=evil.example', 'X-Forwarded-Host': 'evil.example',
    'X-Original-URL': '/rooms/board', 'X-Rewrite-URL': '/rooms/board', 'X-Roomguard-Room': 'board', 'X-Roomguard-Role': 'moderator', 'X-Roomguard-Groups': 'board',
  };
  const leaked = (seen: Arrived) => {
    const h = seen.headers;
    return {
      remoteUser: h['remote-user'] ?? h['x-remote-user'] ?? h['x-forwarded-user'] ?? h['x-forwarded-email'] ?? h['x-forwarded-groups'],
      url: h['x-original-url'] ?? h['x-rewrite-url'],
      forwarded: h.forwarded,
      xff: String(h['x-forwarded-for'] ?? '') + String(h['x-real-ip'] ?? '') + String(h['x-forwarded-host'] ?? ''),
    };
  };

  it('do not reach the upstream on an admitted room request, and do not change the decision', async () => {
    const res = await bob.request(`${rig.origin}/rooms/town-hall`, { headers: spoofed });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Arrived;
    expect(leaked(seen)).toEqual({ remoteUser: undefined, url: undefined, forwarded: undefined, xff: expect.not.stringContaining('203.0.113.9') });
    expect(leaked(seen).xff).not.toContain('evil.example');
    expect(seen.url).toBe('/rooms/town-hall');
    expect(seen.headers['x-roomguard-user']).toBe('bob');
    expect(seen.headers['x-roomguard-room']).toBe('town-hall');
    expect(seen.headers['x-roomguard-role']).toBe('participant');
    expect(seen.headers['x-roomguard-groups']).toBe('staff');
  });

  it('do not reach the upstream with CGI-style underscore spellings either', async () => {
    const res = await bob.request(`${rig.origin}/rooms/town-hall`, { headers: { X_Roomguard_User: 'alice', Remote_User: 'alice', X_Forwarded_User: 'alice' } });
    const seen = (await res.json()) as Arrived;
    expect(Object.keys(seen.headers).filter((h) => /remote|x[-_]forwarded[-_]user|x_roomguard/.test(h))).toEqual([]);
    expect(seen.headers['x-roomguard-user']).toBe('bob');
  });

  it('do not log anyone in: without a session a spoofed user is sent to login and nothing reaches the upstream', async () => {
    const before = rig.upstream.arrived.length;
    const res = await fetch(`${rig.origin}/rooms/town-hall`, { headers: spoofed, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
    expect(rig.upstream.arrived.length).toBe(before);
  });

  it('do not reach the upstream on a public path or a WebSocket handshake', async () => {
    const pub = (await (await fetch(`${rig.origin}/public/x`, { headers: spoofed })).json()) as Arrived;
    expect(leaked(pub)).toMatchObject({ remoteUser: undefined, url: undefined, forwarded: undefined });
    expect(leaked(pub).xff).not.toContain('203.0.113.9');
    const ws = new WebSocket(`ws://127.0.0.1:${rig.port}/rooms/town-hall/ws`, { headers: { cookie: bob.jar.header(new URL(rig.origin))!, ...spoofed } });
    const handshake = await new Promise<Arrived>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Arrived));
      ws.once('error', reject);
    });
    ws.close();
    expect(leaked(handshake)).toMatchObject({ remoteUser: undefined, url: undefined, forwarded: undefined });
    expect(leaked(handshake).xff).not.toContain('203.0.113.9');
    expect(handshake.headers['x-roomguard-room']).toBe('town-hall');
    expect(handshake.headers['x-roomguard-user']).toBe('bob');
  });

  it('Remote-Groups, Remote-Email and Remote-Name (the attack\'s class) never reach the upstream; roomguard\'s own identity does', async () => {
    const cookie = bob.jar.header(new URL(rig.origin))!;
    const res = await getWithRawHeaders(rig.port, '/rooms/town-hall', [['Remote-Groups', 'mallory-spoofed board'], ['Remote-Email', 'mallory-spoofed@example.org'], ['Remote-Name', 'mallory-spoofed'], ['Remote-Groups', 'mallory-spoofed staff']], { cookie });
    expect(res.status, res.body).toBe(200);
    const seen = JSON.parse(res.body) as Arrived;
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('remote'))).toEqual([]);
    expect(spoofedNames(seen.headers)).toEqual([]);
    expect(seen.headers['x-roomguard-user']).toBe('bob');
    expect(seen.headers['x-roomguard-groups']).toBe('staff');
  });

  it('no header of the rule reaches the upstream over HTTP, in any spelling, on a room and a public path', async () => {
    const cookie = bob.jar.header(new URL(rig.origin))!;
    const batches = spoofBatches({ newFamilyMembers: true });
    expect(batches.flat().length).toBeGreaterThan(HAND_PICKED.length + 400);
    for (const batch of batches) {
      for (const path of ['/rooms/town-hall', '/public/x']) {
        const res = await getWithRawHeaders(rig.port, path, batch, { cookie });
        expect(res.status, path).toBe(200);
        const seen = JSON.parse(res.body) as Arrived;
        expect(spoofedNames(seen.headers), `${path}: ${batch[0]![0]} …`).toEqual([]);
        // A public path carries no identity at all; a room carries roomguard's.
        expect(seen.headers['x-roomguard-user']).toBe(path === '/public/x' ? undefined : 'bob');
      }
    }
  });

  it('no header of the rule reaches the upstream in a WebSocket handshake, in any spelling', async () => {
    const cookie = bob.jar.header(new URL(rig.origin))!;
    for (const batch of spoofBatches({ newFamilyMembers: true })) {
      // A WebSocket client sends each name once: the spellings of one batch go in as an object.
      const handshake = await openWebSocket(`ws://127.0.0.1:${rig.port}/rooms/town-hall/ws`, { ...Object.fromEntries(batch), cookie });
      expect(spoofedNames(handshake.headers), `${batch[0]![0]} …`).toEqual([]);
      expect(handshake.headers['x-roomguard-user']).toBe('bob');
      expect(handshake.headers['x-roomguard-room']).toBe('town-hall');
    }
  });

  it('X-Forwarded-For from an untrusted peer does not become the client address the audit log and limiter see', async () => {
    const res = await bob.request(`${rig.origin}/rooms/staff-weekly`, { headers: { 'x-forwarded-for': '198.51.100.7', 'x-real-ip': '198.51.100.7', forwarded: 'for=198.51.100.7' } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const record = (await queryAudit(rig.auditDir, { room: 'staff-weekly', type: 'room.decision' })).at(-1)!;
    expect(record.client?.ip).toBe('127.0.0.1');
  });
});
