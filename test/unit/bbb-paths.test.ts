// How the BBB backend reads paths (after the one path model): its rooms, and every spelling of the server
// API a lenient router (bbb-web is a servlet app) might route to /bigbluebutton/api — closed but for the
// HTML5 client's own calls and the signed join.
import { describe, expect, it } from 'vitest';
import { BbbBackend } from '../../src/backends/bbb.js';
import { lookupPath } from '../helpers/paths.js';

const bbb = new BbbBackend({ upstream: new URL('http://127.0.0.1:1'), secret: 's', checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtlMs: 60_000 });

describe('BBB paths', () => {
  it.each(['/bigbluebutton/api/enter', '/bigbluebutton/api/stuns', '/bigbluebutton/api/signOut', '/bigbluebutton/api/guestWait'])('passes the client call %s with a session', (path) => {
    expect(lookupPath(bbb, path)).toEqual({ kind: 'none' });
  });

  it('takes the exact join as a signed join, judged from the store', () => {
    expect(lookupPath(bbb, '/bigbluebutton/api/join')).toEqual({ kind: 'signalling', fresh: true });
  });

  it.each([
    '/bigbluebutton/api/create', '/bigbluebutton/api/getMeetings', '/bigbluebutton/api', '/bigbluebutton/api/', '/bigbluebutton/api/join/',
    '/bigbluebutton/api/join.json', '/bigbluebutton/api/JOIN', '/bigbluebutton/API/join', '/BigBlueButton/api/join', '/bigbluebutton/api/enter/x',
    '/bigbluebutton/api%20/create', '/bigbluebutton%20/api/create', '/bigbluebutton/api%c2%a0/create', '/bigbluebutton/%e2%80%8bapi/create',
    '/bigbluebutton/%EF%BD%81pi/create', '/%EF%BD%82igbluebutton/api/join',
  ])('keeps the server API closed under %s', (path) => {
    expect(lookupPath(bbb, path)).toMatchObject({ kind: expect.stringMatching(/^(refused|bad-path)$/) });
  });

  it('finds rooms at /rooms/<room>, nowhere deeper', () => {
    expect(lookupPath(bbb, '/rooms/town-hall')).toEqual({ kind: 'room', room: 'town-hall' });
    expect(lookupPath(bbb, '/rooms/Town-Hall')).toEqual({ kind: 'room', room: 'town-hall', canonicalPath: '/rooms/town-hall' });
    expect(lookupPath(bbb, '/rooms/town-hall/x')).toEqual({ kind: 'none' });
  });
});
