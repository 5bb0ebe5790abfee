// Differential path tests against real servers (DESIGN invariant 2: the gateway's reading of a path is
// every upstream's reading). fast-check writes paths from a hostile alphabet — path parameters, escaped
// dots and separators, overlong and invalid UTF-8, full-width letters, case variants, trailing dots and
// slashes — and sends each, byte for byte, with a signed-in session through
//   1. roomguard in proxy mode (generic backend) to real Tomcat (Debian tomcat10, an echo servlet at /*);
//   2. real nginx with the shipped forward-auth snippets, asking roomguard, in front of the same Tomcat;
//   3. roomguard with the BBB backend in front of Tomcat, bbb-web's stand-in.
// For every request that reaches Tomcat, the room Tomcat resolves (and, behind nginx, the room nginx's
// $uri and location name) must be the room roomguard judged — the X-Roomguard-Room header that arrived
// with it — or no room at both ends; Node's own URL parser must read the same path. A BBB server-API call
// must never reach Tomcat except the exact client calls. Every redirect roomguard gives must lead to a
// path it passes as it is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gateway } from '../../src/gateway/server.js';
import { GenericBackend } from '../../src/backends/generic.js';
import { canonicalRoom } from '../../src/backends/room-name.js';
import { readRequestPath } from '../../src/backends/request-path.js';
import { signInThrough } from '../helpers/browser.js';
import { startRigBehind, type Rig, type RigInstance } from '../helpers/rig.js';
import { roomguardHttpConf, startNginx, type Nginx } from '../helpers/nginx.js';
import { rawTargetRequest } from '../helpers/raw-http.js';
import { startTomcat, tomcatReading, type Tomcat, type TomcatReading } from '../helpers/tomcat.js';
import { lookupPath } from '../helpers/paths.js';

const SNIPPETS = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const ROOM_PATH = /^\/rooms\/(?<room>[^/]+)(?:\/.*)?$/;
/** Where the BBB backend finds rooms (src/backends/bbb.ts). */
const BBB_ROOM_PATH = /^\/rooms\/(?<room>[^/]+)\/?$/;
const RUNS = { numRuns: 300 };

let tomcat: Tomcat;
let rig: Rig<Gateway, Tomcat> & { proxy: Nginx };
const stacks = {} as Record<'proxy' | 'nginx' | 'bbb', { port: number; cookie: string }>;

beforeAll(async () => {
  tomcat = await startTomcat();
  // Every signed-in person may enter every room: whatever reaches Tomcat was judged allowed, so the
  // property compares rooms, not decisions.
  const policies = mkdtempSync(join(tmpdir(), 'rg-diff-policies-'));
  writeFileSync(join(policies, 'open.yaml'), 'rooms: ["*"]\nallow:\n  - anyone: true\n');
  const protectedLocation = (name: string) => `
      include ${SNIPPETS}roomguard-auth.conf;
      proxy_set_header Host $host;
      proxy_set_header X-Nginx-Uri $uri;
      proxy_set_header X-Nginx-Location ${name};
      proxy_pass http://127.0.0.1:${tomcat.port};`;
  // Three gateways in front of the same Tomcat: forward-auth behind nginx, proxy mode, the BBB backend.
  rig = await startRigBehind({
    upstream: tomcat, policiesDir: policies,
    instances: [
      { config: { trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' } } },
      {},
      { config: { backend: { type: 'bbb', bbb: { secret: 'differential-bbb-secret-0123456789' } } } },
    ],
  }, (nginxPort, { port: verifyPort }) => startNginx(`
  ${roomguardHttpConf()}
  upstream roomguard { server 127.0.0.1:${verifyPort}; keepalive 4; }
  server {
    listen 127.0.0.1:${nginxPort};
    server_name 127.0.0.1;
    include ${SNIPPETS}roomguard-server.conf;
    location /rooms/ {${protectedLocation('rooms')}
    }
    location / {${protectedLocation('root')}
    }
  }`, nginxPort));
  const [nginx, proxy, bbb] = rig.instances as [RigInstance, RigInstance, RigInstance];
  stacks.proxy = { port: proxy.port, cookie: (await signInThrough(proxy.origin, 'bob')).cookie };
  stacks.nginx = { port: Number(new URL(nginx.origin).port), cookie: (await signInThrough(nginx.origin, 'bob')).cookie };
  stacks.bbb = { port: bbb.port, cookie: (await signInThrough(bbb.origin, 'bob', '/')).cookie };
}, 90_000);

afterAll(async () => {
  await rig?.close();
  await tomcat?.stop();
});

/** The room an upstream that routes by this decoded path opens (the generic backend's roomPath), or null. */
function roomOfDecoded(decodedPath: string, pattern = ROOM_PATH): string | null {
  const raw = pattern.exec(decodedPath)?.groups?.room;
  if (raw === undefined) return null;
  // The canonical name of what the upstream decoded: escape it again the way a browser would, then canonicalise.
  return canonicalRoom(encodeURIComponent(raw)) ?? `(invalid:${raw})`;
}

/** nginx passes $uri's bytes on in a header, which Tomcat reads as latin1. */
function utf8OfLatin1(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

function tomcatPath(reading: TomcatReading): string {
  return reading.servletPath + (reading.pathInfo ?? '');
}

/** One token of a hostile path segment. */
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('rooms', 'board', 'town-hall', 'chat', 'x', 'bigbluebutton', 'api', 'join', 'enter', 'create', 'getMeetings') },
  { weight: 3, arbitrary: fc.constantFrom(';', ';x', ';jsessionid=1', '%3b', '%3B', '%3bx') },
  { weight: 3, arbitrary: fc.constantFrom('.', '..', '%2e', '%2E', '%2e%2e', '.%2e', '...', 'board.', '%2e.') },
  { weight: 2, arbitrary: fc.constantFrom('%2f', '%2F', '%5c', '%5C', '\\', '%00', '%0a', '%7f', '%09') },
  { weight: 2, arbitrary: fc.constantFrom('%c0%af', '%c0%ae', '%ff', '%80', '%c3', '%ed%a0%80', '%e3%80%82', '%c3%a4', '%C3%A4') },
  { weight: 3, arbitrary: fc.constantFrom('ROOMS', 'Rooms', 'r%6foms', '%72ooms', 'BOARD', 'Board', 'b%6fard', '%62oard', 'BigBlueButton', 'API', '%61pi', 'JOIN', 'j%6fin') },
  { weight: 2, arbitrary: fc.constantFrom('%ef%bd%92ooms', '%EF%BD%82oard', 'ｒooms', 'ｂoard', '%ef%bc%a1pi') },
  { weight: 2, arbitrary: fc.constantFrom('%20', '%25', '%2525', '%252e', '%25%32%65', '%', '%2', '%zz', '~', '-', '_', '!', "'", '(', '*', '+', ',', '=', ':', '@', '$', '&') },
  { weight: 1, arbitrary: fc.constantFrom('?', '?x=1', '#', '#x', '|', '[', ']', '"', ' ', 'ä') },
);
const segment = fc.array(token, { minLength: 0, maxLength: 3 }).map((parts) => parts.join(''));
/** A segment that is mostly plain, with now and then one hostile token in it. */
const mostlyPlain = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('board', 'town-hall', 'Board', 'team%20a', 'caf%C3%A9', 'chat', 'app.js', 'a.b', 'x') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('board', 'x', ''), token, fc.constantFrom('', 'board', 'x')).map((parts) => parts.join('')) },
);
/** Paths mostly shaped like room paths (so that many reach Tomcat), sometimes anything. */
const hostilePath = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('rooms', 'rooms', 'rooms', 'rooms', 'ROOMS', 'r%6foms', 'rooms;x', 'rooms%3b', 'ｒooms', 'rooms.', 'bigbluebutton'), fc.array(mostlyPlain, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '/', '/.', '?a=1'))
    .map(([first, rest, tail]) => `/${[first, ...rest].join('/')}${tail}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('rooms', 'ROOMS', 'r%6foms', 'rooms;x', 'rooms%3b', 'ｒooms', 'rooms.', 'bigbluebutton', 'bigbluebutton;x', 'BIGBLUEBUTTON'), fc.array(segment, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '/', '/.', '/%2e', '?a=1'))
    .map(([first, rest, tail]) => `/${[first, ...rest].join('/')}${tail}`) },
  { weight: 1, arbitrary: fc.tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '/', '//')).map(([segments, tail]) => `/${segments.join('/')}${tail}`) },
);

/** Sends `path` the way a browser's page load or sub-resource request would. */
async function send(stack: keyof typeof stacks, path: string, navigation: boolean) {
  const { port, cookie } = stacks[stack];
  return rawTargetRequest(port, path, { cookie, accept: navigation ? 'text/html' : '*/*', 'sec-fetch-dest': navigation ? 'document' : 'empty' });
}

/** A redirect roomguard gave must lead to a path it would pass unchanged (or to one of its own pages). */
function checkRedirect(location: string | undefined) {
  expect(location).toBeDefined();
  const target = new URL(location!, 'http://127.0.0.1');
  if (target.pathname.startsWith('/_roomguard/')) return;
  const reading = readRequestPath(target.pathname);
  expect(reading.kind).toBe('path');
  const lookup = lookupPath(new GenericBackend(ROOM_PATH.source), target.pathname);
  if (lookup.kind === 'room') expect(lookup.canonicalPath).toBeUndefined();
}

/** How many generated requests reached Tomcat, and how many of those inside a room: a property that nothing passes proves nothing. */
const reached = { total: 0, rooms: 0 };

/** Tomcat answered with its echo (not its own 400 page): the request went through. */
function reachedTomcat(res: { status: number; body: string }): TomcatReading | undefined {
  if (res.status !== 200 || !res.body.startsWith('{"servletPath"')) return undefined;
  const reading = tomcatReading(res.body);
  reached.total++;
  if (reading.room !== null) reached.rooms++;
  return reading;
}

/** Runs a property and checks that enough of its requests went through to mean something. */
async function holdsWithTraffic(property: fc.IAsyncProperty<[string, boolean]>) {
  reached.total = 0;
  reached.rooms = 0;
  await fc.assert(property, RUNS);
  // About a third of the requests reach Tomcat and a tenth of those inside a room (BBB: fewer, its rooms are one segment).
  expect(reached.total, `reached Tomcat ${reached.total}×, in a room ${reached.rooms}×`).toBeGreaterThan(RUNS.numRuns / 10);
  expect(reached.rooms, `reached Tomcat ${reached.total}×, in a room ${reached.rooms}×`).toBeGreaterThanOrEqual(3);
}

describe('differential path reading against real servers (property)', () => {
  it('proxy mode → Tomcat: every request that arrives opens the room roomguard judged, or no room at both ends', async () => {
    await holdsWithTraffic(fc.asyncProperty(hostilePath, fc.boolean(), async (path, navigation) => {
      const res = await send('proxy', path, navigation);
      expect(res.status).toBeGreaterThan(0);
      expect(res.status).toBeLessThan(500);
      if (res.status === 302) return checkRedirect(res.headers.location);
      const seen = reachedTomcat(res);
      if (!seen) return;
      // The request target ends at the first space, for every HTTP parser.
      const sentPath = path.split('?')[0]!.split(' ')[0]!;
      expect(seen.requestURI).toBe(sentPath);
      expect(seen.room).toBe(roomOfDecoded(tomcatPath(seen)));
      // Node's own URL parser (an upstream written with it) reads the same path.
      expect(new URL(sentPath, 'http://upstream.invalid').pathname).toBe(sentPath);
    }));
  });

  it('nginx forward-auth → Tomcat: nginx\'s $uri, its location and Tomcat all name the room roomguard judged', async () => {
    await holdsWithTraffic(fc.asyncProperty(hostilePath, fc.boolean(), async (path, navigation) => {
      const res = await send('nginx', path, navigation);
      expect(res.status).toBeGreaterThan(0);
      expect(res.status).not.toBe(500);
      if (res.status === 302) return checkRedirect(res.headers.location);
      const seen = reachedTomcat(res);
      if (!seen) return;
      const judged = seen.room;
      expect(judged).toBe(roomOfDecoded(tomcatPath(seen)));
      const nginxUri = utf8OfLatin1(seen.nginxUri ?? '');
      expect(judged).toBe(roomOfDecoded(nginxUri));
      // nginx's /rooms/ location holds exactly the paths whose $uri is a room path or the bare prefix.
      if (seen.nginxLocation === 'rooms' && nginxUri !== '/rooms/') expect(judged).not.toBeNull();
    }));
  });

  it('BBB backend → Tomcat as bbb-web: no server-API call arrives but the exact client calls, and rooms agree', async () => {
    await holdsWithTraffic(fc.asyncProperty(hostilePath, fc.constant(false), async (path, _navigation) => {
      const res = await send('bbb', path, false);
      expect(res.status).toBeGreaterThan(0);
      expect(res.status).toBeLessThan(500);
      const seen = reachedTomcat(res);
      if (!seen) return;
      const read = tomcatPath(seen);
      if (/^\/bigbluebutton\/api(\/|$)/i.test(read)) expect(['/bigbluebutton/api/enter', '/bigbluebutton/api/stuns', '/bigbluebutton/api/signOut', '/bigbluebutton/api/guestWait']).toContain(read);
      expect(seen.room).toBe(roomOfDecoded(read, BBB_ROOM_PATH));
    }));
  });
});

describe('path parameters in any segment (the reported spellings)', () => {
  it.each(['/rooms;x/board', '/rooms;/board/chat', '/rooms%3bx/board', '/rooms/board;x', '/x/..;/rooms/board', '/rooms;x/board/'])(
    'refuses %s with RG_REQUEST_BAD_PATH in proxy mode and behind nginx; Tomcat never sees it', async (path) => {
      for (const stack of ['proxy', 'nginx', 'bbb'] as const) {
        const res = await send(stack, path, true);
        expect(res.status, `${stack} ${path}`).toBe(400);
        expect(res.body).toContain('RG_REQUEST_BAD_PATH');
      }
    });

  it('refuses a WebSocket upgrade on /rooms;x/board before anything reaches the upstream', async () => {
    const res = await rawTargetRequest(stacks.proxy.port, '/rooms;x/board', {
      cookie: stacks.proxy.cookie, upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('RG_REQUEST_BAD_PATH');
  });

  it.each(['/bigbluebutton;x/api/join?a=1', '/bigbluebutton/api;x/join?a=1', '/bigbluebutton;x/api/getMeetings', '/bigbluebutton/api;/create', '/bigbluebutton/api/join;x?a=1'])(
    'keeps the BBB server API closed under %s', async (path) => {
      const res = await send('bbb', path, false);
      expect(reachedTomcat(res)).toBeUndefined();
      expect(res.status).toBe(400);
    });
});
